import { describe, expect, test } from 'bun:test'
import { t } from 'elysia'
import { createParser, type EventSourceMessage } from 'eventsource-parser'
import { events, EventDataError } from '../../src/events'

const feed = events({
	tick: t.Object({ n: t.Number(), at: t.String({ format: 'date-time' }) }),
	note: t.String(),
	level: t.Union([t.Literal('low'), t.Literal('high')]),
	maybe: t.Union([t.String(), t.Number()]),
	any: t.Unknown(),
	list: t.Array(t.Object({ name: t.String() })),
	ping: t.Undefined()
})

/** Parses SSE text with eventsource-parser, the oracle. */
function parse(text: string): EventSourceMessage[] {
	const out: EventSourceMessage[] = []
	const parser = createParser({ onEvent: (e) => out.push(e) })
	parser.feed(text)
	return out
}

describe('events() registry', () => {
	test('check passes valid data and names the event and path of invalid data', () => {
		expect(() => feed.check('tick', { n: 1, at: '2024-01-01T00:00:00Z' })).not.toThrow()
		const error = (() => {
			try {
				feed.check('list', [{ name: 'a' }, { name: 2 }])
			} catch (e) {
				return e as EventDataError
			}
		})()
		expect(error).toBeInstanceOf(EventDataError)
		expect(error!.event).toBe('list')
		expect(error!.path).toBe('/1/name')
		expect(error!.message).toContain('"list"')
		expect(error!.message).toContain('/1/name')
	})

	test('an unknown event is refused with the known names', () => {
		expect(() => feed.check('nope', 1)).toThrow(/"nope".*not a registered event.*tick, note/)
		expect(feed.is('nope', 1)).toBe(false)
		expect(feed.is('note', 'x')).toBe(true)
		expect(feed.is('note', 1)).toBe(false)
	})

	test('string-only schemas travel as text, everything else as JSON', () => {
		expect(feed.isText('note')).toBe(true)
		expect(feed.isText('level')).toBe(true)
		expect(feed.isText('maybe')).toBe(false)
		expect(feed.isText('any')).toBe(false)
		expect(feed.wire('note', '42')).toBe('42')
		expect(feed.wire('maybe', '42')).toBe('"42"')
		expect(feed.wire('maybe', 42)).toBe('42')
		expect(feed.wire('ping', undefined)).toBeUndefined()
	})

	test('what encode() sends decodes back to the same value, for every shape', () => {
		const cases: [string, unknown][] = [
			['note', '42'],
			['note', 'true'],
			['note', '2024-01-01T00:00:00Z'],
			['note', 'line one\nline two\n\nline four'],
			['note', ''],
			['note', '{"not":"json to us"}'],
			['level', 'high'],
			['maybe', '42'],
			['maybe', 42],
			['any', 'null'],
			['any', null],
			['any', { deep: ['x\ny', 1.5, false, null] }],
			['any', 'data: injected\n\nevent: evil'],
			['list', [{ name: 'a\r\nb' }]],
			['tick', { n: -0.5, at: '2024-01-01T00:00:00Z' }],
			['ping', undefined]
		]
		for (const [event, data] of cases) {
			const [message] = parse(feed.encode(event as 'any', data, { id: 7 }))
			expect(message!.event).toBe(event)
			expect(message!.id).toBe('7')
			expect(feed.decode(event as 'any', message!.data)).toEqual(data)
		}
	})

	test('encode refuses bad data and sends nothing', () => {
		expect(() => feed.encode('tick', { n: 'x' } as never)).toThrow(EventDataError)
		expect(() => feed.encode('tick', { n: Number.NaN, at: 'x' } as never)).toThrow(/"tick"/)
	})

	test('schemas that cannot travel as JSON are refused at registration', () => {
		expect(() => events({ when: t.Object({ at: t.Date() }) })).toThrow(/"when".*\/at.*Date/)
		expect(() => events({ big: t.BigInt() })).toThrow(/"big"/)
		expect(() => events({ 'a\nb': t.String() })).toThrow(/CR, LF/)
	})

	test('pick() limits a registry to some events', () => {
		const ticks = feed.pick('tick', 'note')
		expect(ticks.names).toEqual(['tick', 'note'])
		expect(() => ticks.check('level', 'low')).toThrow(/not a registered event/)
		expect(() => feed.pick('nope' as 'tick')).toThrow(/"nope"/)
	})

	test('openapi() has one schema per event, JSON-serialisable', () => {
		const detail = JSON.parse(JSON.stringify(feed.openapi()))
		const oneOf = detail.responses['200'].content['text/event-stream'].schema.oneOf
		expect(oneOf.map((s: { title: string }) => s.title)).toEqual(feed.names)
		expect(oneOf[0].properties.data.properties.n.type).toBe('number')
		expect(oneOf[0].properties.event.const).toBe('tick')
	})
})
