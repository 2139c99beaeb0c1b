import { describe, expect, test } from 'bun:test'
import { Elysia } from 'elysia'
import { streaming } from '../plugins'
import { RawClient } from './support/raw-http'
import { startEach, until } from './support/server'
import { CODINGS, chunkedEnded, decodeSoFar, decodeWhole } from './support/compressed'

const start = startEach()

describe('sse() compression', () => {
	test('off by default, whatever the client accepts', async () => {
		const { port } = start(new Elysia().use(streaming()).get('/e', ({ sse }) => sse([{ data: 1 }])))
		const client = await RawClient.request(port, '/e', { headers: { 'accept-encoding': 'gzip, br, zstd' } })
		await client.waitFor((c) => c.body.includes('data: 1\n\n'))
		expect(client.head).not.toMatch(/content-encoding/i)
	})

	test.each(CODINGS)('%s, opted into: every event is flushed on its own, before the producer makes the next', async (coding) => {
		const gates: (() => void)[] = []
		let made = 0
		const { port } = start(
			new Elysia().use(streaming()).get('/e', ({ sse }) =>
				sse(
					async function* () {
						for (let i = 1; i <= 3; i++) {
							made = i
							yield { event: 'tick', data: { i } }
							await new Promise<void>((r) => gates.push(r))
						}
					},
					{ compress: true }
				)
			)
		)
		const client = await RawClient.request(port, '/e', { headers: { 'accept-encoding': coding } })
		for (let i = 1; i <= 3; i++) {
			let seen = ''
			await until(() => {
				decodeSoFar(coding, client.bodyBytes).then((t) => (seen = t))
				return seen.includes(`data: {"i":${i}}\n\n`)
			}, 3000, `event ${i}, decoded`)
			expect(made).toBe(i)
			await until(() => gates.length > 0, 1000, 'the producer waiting')
			gates.shift()!()
		}
		await client.waitFor((c) => chunkedEnded(c.raw))
		expect(client.head).toMatch(new RegExp(`content-encoding: ${coding}`, 'i'))
		expect(client.head).toMatch(/vary: Accept-Encoding/i)
		const text = decodeWhole(coding, client.bodyBytes)
		expect(text.match(/data: .*/g)).toEqual(['data: {"i":1}', 'data: {"i":2}', 'data: {"i":3}'])
	})
})
