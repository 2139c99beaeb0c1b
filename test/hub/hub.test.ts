// The hub on its own: real ResponseStreams read through their Response bodies, no server.
import { describe, expect, test } from 'bun:test'
import { ResponseStream } from '../../src/stream'
import { BroadcastDataError, Hub, HubEvents, MemoryTransport } from '../../src/hub'
import { SseFieldError } from '../../src/sse'
import { ConnectionRegistry } from '../../src/connections'
import { events } from '../../src/events'
import { Type as t } from '@sinclair/typebox'
import { until } from '../support/server'
import { idsOf, parseEvents } from './sse-events'
import { lateHistory } from './transports'
import { readTextInto } from '../support/read-text'

/** An SSE stream whose body is read as it arrives. */
function reader() {
	const stream = new ResponseStream({ contentType: 'text/event-stream', heartbeatMs: 0 })
	const chunks: unknown[] = []
	const write = stream.write.bind(stream)
	stream.write = (chunk, events) => {
		chunks.push(chunk)
		return write(chunk, events)
	}
	const state = { text: '', stream, chunks }
	void readTextInto(stream.response, state)
	return state
}

describe('Hub', () => {
	test('encodes once: every subscriber is handed the same bytes', async () => {
		const hub = new Hub()
		const rs = [reader(), reader(), reader()]
		for (const r of rs) hub.subscribe(r.stream, 'room')
		await hub.publish('room', 'tick', { n: 1 })
		await until(() => rs.every((r) => r.text.includes('id: 1')))
		const sent = rs.map((r) => r.chunks.find((c) => c instanceof Uint8Array))
		expect(sent[0]).toBeInstanceOf(Uint8Array)
		expect(sent[1]).toBe(sent[0]!)
		expect(sent[2]).toBe(sent[0]!)
		expect(new TextDecoder().decode(sent[0] as Uint8Array)).toBe('id: 1\nevent: tick\ndata: {"n":1}\n\n')
		for (const r of rs) r.stream.close()
	})

	test('frames published in one tick go out in one write, in order', async () => {
		const hub = new Hub()
		const r = reader()
		hub.subscribe(r.stream, 'room')
		for (let n = 1; n <= 50; n++) hub.publish('room', 'tick', n)
		await until(() => r.text.includes('id: 50\n'))
		expect(r.chunks.length).toBe(1)
		expect(idsOf(r.text)).toEqual(Array.from({ length: 50 }, (_, i) => i + 1))
		r.stream.close()
	})

	test('a filter skips frames for one subscriber; the others still share the encoded bytes', async () => {
		const hub = new Hub()
		const alice = reader()
		const bob = reader()
		const carol = reader()
		hub.subscribe(alice.stream, 'chat', { filter: (f) => (f.json() as { from: string }).from !== 'alice' })
		hub.subscribe(bob.stream, 'chat')
		hub.subscribe(carol.stream, 'chat')
		await hub.publish('chat', 'say', { from: 'alice', text: 'hi' })
		await hub.publish('chat', 'say', { from: 'bob', text: 'yo' })
		await until(() => [alice, bob, carol].every((r) => r.text.includes('id: 2\n')))
		expect(parseEvents(alice.text).map((e) => JSON.parse(e.data).from)).toEqual(['bob'])
		expect(parseEvents(bob.text).map((e) => JSON.parse(e.data).from)).toEqual(['alice', 'bob'])
		expect(bob.chunks).toEqual(carol.chunks)
		for (let i = 0; i < bob.chunks.length; i++) expect(bob.chunks[i]).toBe(carol.chunks[i]!)
		for (const r of [alice, bob, carol]) r.stream.close()
	})

	test('the registry refuses bad data with a clear error, and nothing is sent', async () => {
		const registry = {
			check(event: string, data: unknown) {
				if (event === 'tick' && typeof (data as { n?: unknown })?.n !== 'number')
					throw new Error('n must be a number')
			}
		}
		const hub = new Hub({ registry })
		const r = reader()
		hub.subscribe(r.stream, 'room')
		const refused = hub.publish('room', 'tick', { n: 'one' })
		await expect(refused).rejects.toBeInstanceOf(BroadcastDataError)
		await expect(refused).rejects.toThrow('data of event "tick" does not match its schema: n must be a number')
		const sent = await hub.publish('room', 'tick', { n: 1 })
		// The refused publish used no id.
		expect(sent.id).toBe('1')
		await until(() => r.text.includes('id: 1\n'))
		expect(parseEvents(r.text).map((e) => e.data)).toEqual(['{"n":1}'])
		r.stream.close()
	})

	test('with a typed registry, data is encoded as the registry says, still once for every subscriber', async () => {
		const hub = new Hub({ registry: events({ value: t.Union([t.String(), t.Number()]), note: t.String() }) })
		const rs = [reader(), reader()]
		for (const r of rs) hub.subscribe(r.stream, 'room')
		await hub.publish('room', 'value', '42')
		await until(() => rs.every((r) => r.text.includes('id: 1\n')))
		const [a, b] = rs.map((r) => r.chunks.find((c) => c instanceof Uint8Array))
		expect(b).toBe(a!)
		// Not a string-only schema: the string goes as JSON, so it cannot be read back as the number 42.
		expect(new TextDecoder().decode(a as Uint8Array)).toBe('id: 1\nevent: value\ndata: "42"\n\n')
		await hub.publish('room', 'note', 'line 1\nline 2')
		await until(() => rs.every((r) => r.text.includes('id: 2\n')))
		expect(rs[0]!.text).toEndWith('id: 2\nevent: note\ndata: line 1\ndata: line 2\n\n')
		// @ts-expect-error the run-time check of what the types refuse
		const refused = hub.publish('room', 'value', true)
		await expect(refused).rejects.toBeInstanceOf(BroadcastDataError)
		await expect(refused).rejects.toThrow('sse event "value"')
		// @ts-expect-error an event the registry does not have
		await expect(hub.publish('room', 'nope', 1)).rejects.toThrow('not a registered event')
		expect((await hub.publish('room', 'value', 7)).id).toBe('3')
		for (const r of rs) r.stream.close()
	})

	test('an unsafe event name is refused with the encoder\'s error, and uses no id', async () => {
		const hub = new Hub()
		await expect(hub.publish('room', 'bad\nevent', 1)).rejects.toThrow(SseFieldError)
		expect((await hub.publish('room', 'tick', 1)).id).toBe('1')
	})

	test('a check that returns false is a refusal too', async () => {
		const hub = new Hub({ registry: { check: () => false } })
		await expect(hub.publish('room', 'tick', 1)).rejects.toThrow(BroadcastDataError)
	})

	test('last K on join, then live, no duplicate', async () => {
		const hub = new Hub()
		for (let n = 1; n <= 20; n++) await hub.publish('room', 'tick', n)
		const r = reader()
		hub.subscribe(r.stream, 'room', { last: 10 })
		await hub.publish('room', 'tick', 21)
		await until(() => r.text.includes('id: 21\n'))
		expect(idsOf(r.text)).toEqual([11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21])
		r.stream.close()
	})

	test('Last-Event-ID resumes exactly while publishing goes on, even when history answers late', async () => {
		const hub = new Hub({ transport: lateHistory(20) })
		for (let n = 1; n <= 10; n++) await hub.publish('room', 'tick', n)
		const r = reader()
		hub.subscribe(r.stream, 'room', { lastEventId: '4' })
		// Published while the history is being read: held, then sent after the replay.
		for (let n = 11; n <= 15; n++) await hub.publish('room', 'tick', n)
		await Bun.sleep(30)
		for (let n = 16; n <= 20; n++) await hub.publish('room', 'tick', n)
		await until(() => r.text.includes('id: 20\n'))
		expect(idsOf(r.text)).toEqual(Array.from({ length: 16 }, (_, i) => i + 5))
		r.stream.close()
	})

	test('an unknown or too old Last-Event-ID gets a replay-incomplete event, then live frames', async () => {
		const hub = new Hub({ transport: new MemoryTransport({ history: { maxFrames: 5 } }) })
		for (let n = 1; n <= 10; n++) await hub.publish('room', 'tick', n)
		const unknown = reader()
		const old = reader()
		hub.subscribe(unknown.stream, 'room', { lastEventId: '999' })
		hub.subscribe(old.stream, 'room', { lastEventId: '2' })
		await Bun.sleep(5)
		await hub.publish('room', 'tick', 11)
		await until(() => unknown.text.includes('id: 11\n') && old.text.includes('id: 11\n'))
		const [notice] = parseEvents(unknown.text)
		expect(notice!.event).toBe(HubEvents.replayIncomplete)
		expect(JSON.parse(notice!.data)).toEqual({ lastEventId: '999', replayed: 0 })
		expect(idsOf(unknown.text)).toEqual([11])
		expect(parseEvents(old.text)[0]!.event).toBe(HubEvents.replayIncomplete)
		// What history still holds, then live.
		expect(idsOf(old.text)).toEqual([6, 7, 8, 9, 10, 11])
		unknown.stream.close()
		old.stream.close()
	})

	test('live frames past the limit while the history is read do not cut the subscriber: they are read from history, in order', async () => {
		const registry = new ConnectionRegistry()
		const hub = new Hub({ transport: lateHistory(50), maxUnsentBytes: 1000 })
		const r = reader()
		registry.add(r.stream, { kind: 'sse', route: '/room', topics: ['room'] })
		hub.subscribe(r.stream, 'room', { lastEventId: '0' })
		// Held while the history is read: 1,500 bytes pass the 1,000-byte limit (issue 10: this used to cut it).
		for (let n = 1; n <= 5; n++) await hub.publish('room', 'tick', 'x'.repeat(300))
		await until(() => r.text.includes('id: 5\n'), 3000)
		await hub.publish('room', 'tick', 'live')
		await until(() => r.text.includes('id: 6\n'))
		expect(r.stream.closed).toBe(false)
		expect(idsOf(r.text)).toEqual([1, 2, 3, 4, 5, 6])
		expect(parseEvents(r.text).filter((e) => e.event !== 'tick')).toEqual([])
		expect(registry.metrics()).toContain('\nsluice_slow_consumer_disconnects_total 0\n')
		r.stream.close()
	})

	test('live frames that pile up after the replay still meet the slow-consumer policy', async () => {
		const hub = new Hub({ maxUnsentBytes: 1000 })
		for (let n = 1; n <= 3; n++) await hub.publish('room', 'tick', n)
		// Never read: the stream's body is not pulled, so every write stays unsent.
		const stream = new ResponseStream({ contentType: 'text/event-stream', heartbeatMs: 0 })
		hub.subscribe(stream, 'room', { lastEventId: '0' })
		await until(() => stream.lastEventId === '3')
		for (let n = 4; n <= 20 && !stream.closed; n++) await hub.publish('room', 'tick', 'x'.repeat(300))
		expect(stream.closeReason).toBe('slow')
	})

	test('presence: live counts and join/leave events', async () => {
		const hub = new Hub()
		const watcher = reader()
		hub.subscribe(watcher.stream, 'room')
		const a = reader()
		hub.subscribe(a.stream, 'room', { presence: { join: (count) => ({ who: 'a', count }), leave: (count) => ({ who: 'a', count }) } })
		expect(hub.count('room')).toBe(2)
		expect(hub.counts()).toEqual({ room: 2 })
		await Bun.sleep(1)
		expect(await hub.clusterCounts()).toEqual({ room: 2 })
		a.stream.close('client')
		expect(hub.count('room')).toBe(1)
		await until(() => parseEvents(watcher.text).length === 2)
		const seen = parseEvents(watcher.text)
		expect(seen.map((e) => [e.event, JSON.parse(e.data)])).toEqual([
			['join', { who: 'a', count: 2 }],
			['leave', { who: 'a', count: 1 }]
		])
		watcher.stream.close()
		expect(hub.counts()).toEqual({})
		await Bun.sleep(1)
		expect(await hub.clusterCounts()).toEqual({})
	})

	test('a closed hub refuses subscribers and stops listening', async () => {
		const transport = new MemoryTransport()
		const hub = new Hub({ transport })
		const r = reader()
		hub.subscribe(r.stream, 'room')
		await hub.close()
		expect(() => hub.subscribe(reader().stream, 'room')).toThrow('closed')
		r.stream.close()
	})
})
