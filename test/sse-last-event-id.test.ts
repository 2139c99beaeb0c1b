import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { createParser, type EventSourceMessage } from 'eventsource-parser'
import { eventIdNumber } from '../src/sse'
import { startExample, type ExampleProcess } from './support/example'
import { RawClient } from './support/raw-http'

describe('eventIdNumber', () => {
	test('a decimal non-negative safe integer, or undefined', () => {
		expect(eventIdNumber('0')).toBe(0)
		expect(eventIdNumber('41')).toBe(41)
		expect(eventIdNumber('9007199254740991')).toBe(9007199254740991)
		for (const bad of [undefined, '', ' 1', '1 ', 'abc', 'NaN', 'Infinity', '-1', '+1', '1.5', '1e3', '0x10', '9007199254740992', '9007199254740993', '1'.repeat(400)])
			expect([bad, eventIdNumber(bad)]).toEqual([bad, undefined])
	})
})

describe('examples/events.ts resumes only from an id it could have sent', () => {
	let app: ExampleProcess
	beforeAll(async () => {
		app = await startExample('events')
	})
	afterAll(() => app.stop())

	/** The first event's id after connecting with `Last-Event-ID: value` (sent over a raw socket, as given). */
	async function firstId(value: string): Promise<string | undefined> {
		const client = await RawClient.request(Number(new URL(app.url).port), '/events', { headers: { 'Last-Event-ID': value } })
		const events: EventSourceMessage[] = []
		try {
			await client.waitFor((c) => {
				events.length = 0
				const parser = createParser({ onEvent: (e) => events.push(e) })
				parser.feed(c.body)
				return events.length > 0
			})
		} finally {
			client.destroy()
		}
		expect(JSON.parse(events[0]!.data).id).toBe(Number(events[0]!.id))
		return events[0]!.id
	}

	test('a valid id resumes after it; anything else starts from 0, never NaN or Infinity', async () => {
		expect(await firstId('1')).toBe('2')
		for (const value of ['abc', 'Infinity', '-1', '1.5', '1e3', '9007199254740993', ''])
			expect([value, await firstId(value)]).toEqual([value, '0'])
	})
})
