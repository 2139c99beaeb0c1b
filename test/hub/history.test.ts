import { describe, expect, test } from 'bun:test'
import { heapStats } from 'bun:jsc'
import { HistoryRing, MemoryTransport } from '../../src/hub'
import { OptionError } from '../../src/errors'

const utf8 = new TextEncoder()
const frame = (id: number, size = 10) => ({ topic: 't', id: String(id), bytes: new Uint8Array(size) })
const ids = (frames: { id: string }[]) => frames.map((f) => Number(f.id))

describe('HistoryRing', () => {
	test('keeps at most maxFrames, oldest first', () => {
		const ring = new HistoryRing({ maxFrames: 3 })
		for (let i = 1; i <= 5; i++) ring.push(frame(i))
		expect(ids(ring.last(10))).toEqual([3, 4, 5])
		expect(ids(ring.last(2))).toEqual([4, 5])
		expect(ring.size).toBe(3)
	})

	test('keeps at most maxBytes', () => {
		const ring = new HistoryRing({ maxFrames: 100, maxBytes: 25 })
		for (let i = 1; i <= 5; i++) ring.push(frame(i))
		expect(ids(ring.last(10))).toEqual([4, 5])
		expect(ring.bytes).toBe(20)
	})

	test('a frame larger than maxBytes is not kept', () => {
		const ring = new HistoryRing({ maxBytes: 5 })
		ring.push(frame(1))
		expect(ring.size).toBe(0)
		expect(ring.bytes).toBe(0)
	})

	test('after(): exact, too old, unknown, malformed', () => {
		const ring = new HistoryRing({ maxFrames: 4 })
		for (let i = 1; i <= 10; i++) ring.push(frame(i))
		expect(ring.after('8', 10)).toEqual({ frames: [frame(9), frame(10)], complete: true })
		expect(ring.after('6', 10).complete).toBe(true)
		expect(ids(ring.after('6', 10).frames)).toEqual([7, 8, 9, 10])
		expect(ring.after('10', 10)).toEqual({ frames: [], complete: true })
		// 5 was evicted: the client missed it.
		expect(ring.after('5', 10).complete).toBe(false)
		expect(ids(ring.after('5', 10).frames)).toEqual([7, 8, 9, 10])
		expect(ring.after('11', 10)).toEqual({ frames: [], complete: false })
		for (const bad of ['abc', '', '-1', '1.5', '07', ' 8'])
			expect(ring.after(bad, 10)).toEqual({ frames: [], complete: false })
	})

	test('wraps around many times', () => {
		const ring = new HistoryRing({ maxFrames: 7 })
		for (let i = 1; i <= 1000; i++) ring.push(frame(i))
		expect(ids(ring.after('995', 1000).frames)).toEqual([996, 997, 998, 999, 1000])
	})

	test('a ring holds nothing up front: five rings of 2,000,000 frames cost next to nothing until frames come', () => {
		Bun.gc(true)
		const before = heapStats().heapSize
		// Sized up front, these would be 5 x 2 x 16 MB.
		const rings = Array.from({ length: 5 }, () => new HistoryRing({ maxFrames: 2_000_000 }))
		for (let i = 1; i <= 3; i++) rings[0]!.push(frame(i))
		expect(heapStats().heapSize - before).toBeLessThan(8 * 1024 * 1024)
		expect(ids(rings[0]!.last(10))).toEqual([1, 2, 3])
	})

	test('grows to maxFrames, then wraps, also when bytes evicted frames before it was full', () => {
		const ring = new HistoryRing({ maxFrames: 4, maxBytes: 25 })
		for (let i = 1; i <= 3; i++) ring.push(frame(i)) // the third evicts the first by bytes
		expect(ids(ring.last(10))).toEqual([2, 3])
		const wide = new HistoryRing({ maxFrames: 4, maxBytes: 1000 })
		for (let i = 1; i <= 11; i++) wide.push(frame(i, i % 3 === 0 ? 300 : 10))
		expect(ids(wide.last(10))).toEqual([8, 9, 10, 11])
		expect(ids(wide.after('9', 11).frames)).toEqual([10, 11])
		expect(ring.after('2', 3).frames.map((f) => Number(f.id))).toEqual([3])
	})

	test('refuses bad bounds', () => {
		expect(() => new HistoryRing({ maxFrames: -1 })).toThrow(OptionError)
		expect(() => new HistoryRing({ maxBytes: Number.NaN })).toThrow(OptionError)
	})
})

describe('MemoryTransport', () => {
	test('ids increase per topic; the id line is prepended; listeners get frames in order', async () => {
		const transport = new MemoryTransport()
		const seen: string[] = []
		const stop = transport.listen('a', (f) => seen.push(f.id + ':' + new TextDecoder().decode(f.bytes)))
		await transport.publish('a', utf8.encode('data: x\n\n'))
		await transport.publish('b', utf8.encode('data: y\n\n'))
		const f = await transport.publish('a', utf8.encode('data: z\n\n'))
		expect(f.id).toBe('2')
		expect(seen).toEqual(['1:id: 1\ndata: x\n\n', '2:id: 2\ndata: z\n\n'])
		stop()
		await transport.publish('a', utf8.encode('data: w\n\n'))
		expect(seen.length).toBe(2)
		expect((await transport.replay('b', '0')).frames.map((x) => x.id)).toEqual(['1'])
		expect(await transport.replay('nope', '0')).toEqual({ frames: [], complete: true })
		expect(await transport.replay('nope', '3')).toEqual({ frames: [], complete: false })
		expect((await transport.replay('a', undefined, 2)).frames.map((x) => x.id)).toEqual(['2', '3'])
		expect((await transport.replay('a', undefined)).frames).toEqual([])
	})

	test('counts are what was last set', async () => {
		const transport = new MemoryTransport()
		transport.setCounts({ 'topic:a': 2 })
		expect(await transport.clusterCounts()).toEqual({ 'topic:a': 2 })
	})
})
