import { describe, expect, test } from 'bun:test'
import { Elysia, t } from 'elysia'
import * as root from '../plugins'
import * as client from '../src/client'
import * as validate from '../src/client/validate'
import * as redisEntry from '../src/hub/redis'
import { LineTooLongError } from '../src/ndjson/lines'
import { readNdjson } from '../src/ndjson'
import { Hub } from '../src/hub'
import { checkTopics } from '../src/hub/topic-cursor'
import { startEach } from './support/server'

const {
	SluiceError,
	OptionError,
	SseFieldError,
	EventDataError,
	BroadcastDataError,
	NdjsonEncodeError,
	NdjsonBodyError,
	encodeSse,
	encodeNdjson,
	events
} = root
const { RedisUnavailableError } = redisEntry
const { NdjsonStreamError, SseClientError, readNdjsonRecords } = client

const thrown = async (run: () => unknown): Promise<unknown> => {
	try {
		await run()
	} catch (error) {
		return error
	}
	throw new Error('expected a throw')
}
const drain = async (it: AsyncIterable<unknown>) => {
	for await (const _ of it);
}
const body = (text: string) => new Response(text).body!

// Each public error class, and each code it can carry, as Sluice raises it where that is cheap.
const cases: { name: string; code: string; make: () => unknown }[] = [
	{ name: 'OptionError', code: 'OPTION_INVALID', make: () => thrown(() => events({ 'a\nb': t.String() })) },
	{ name: 'SseFieldError', code: 'SSE_FIELD_INVALID', make: () => thrown(() => encodeSse({ event: 'a\nb' })) },
	{
		name: 'EventDataError',
		code: 'EVENT_DATA_INVALID',
		make: () => thrown(() => events({ n: t.Number() }).check('n', 'x'))
	},
	{ name: 'SluiceError', code: 'EVENT_UNKNOWN', make: () => thrown(() => events({ n: t.Number() }).pick('x' as 'n')) },
	{
		name: 'BroadcastDataError',
		code: 'BROADCAST_DATA_INVALID',
		make: () => thrown(() => new Hub({ registry: events({ n: t.Number() }) }).publish('room', 'n', 'x' as never))
	},
	{ name: 'RedisUnavailableError', code: 'REDIS_UNAVAILABLE', make: () => new RedisUnavailableError('down') },
	{ name: 'NdjsonEncodeError', code: 'NDJSON_RECORD_INVALID', make: () => thrown(() => encodeNdjson(undefined)) },
	{ name: 'NdjsonBodyError', code: 'NDJSON_BODY_INVALID', make: () => thrown(() => drain(readNdjson(body('{\n')))) },
	{
		name: 'NdjsonBodyError',
		code: 'NDJSON_LINE_TOO_LONG',
		make: () => thrown(() => drain(readNdjson(body('"0123456789"\n'), { maxLineBytes: 4 })))
	},
	{ name: 'NdjsonBodyError', code: 'NDJSON_BODY_UNAVAILABLE', make: () => new NdjsonBodyError(415, 'no body') },
	{ name: 'LineTooLongError', code: 'LINE_TOO_LONG', make: () => new LineTooLongError(1, 4) },
	{
		name: 'NdjsonStreamError',
		code: 'NDJSON_STREAM_STATUS',
		make: () => thrown(() => drain(readNdjsonRecords(new Response('nope', { status: 500 }))))
	},
	{
		name: 'NdjsonStreamError',
		code: 'NDJSON_STREAM_REMOTE',
		make: () => thrown(() => drain(readNdjsonRecords(body('{"error":"boom","records":0}\n'))))
	},
	{
		name: 'NdjsonStreamError',
		code: 'NDJSON_STREAM_LINE_INVALID',
		make: () => thrown(() => drain(readNdjsonRecords(body('{\n'))))
	},
	{
		name: 'NdjsonStreamError',
		code: 'NDJSON_STREAM_LINE_TOO_LONG',
		make: () => thrown(() => drain(readNdjsonRecords(body('"0123456789"\n'), { maxLineBytes: 4 })))
	},
	{ name: 'TopicsError', code: 'TOPICS_INVALID', make: () => thrown(() => checkTopics([])) },
	{ name: 'SseClientError', code: 'SSE_CLIENT_STATUS', make: () => new SseClientError('status', 'x', 500) },
	{ name: 'SseClientError', code: 'SSE_CLIENT_CONTENT_TYPE', make: () => new SseClientError('content-type', 'x', 200) },
	{ name: 'SseClientError', code: 'SSE_CLIENT_REMOTE', make: () => new SseClientError('remote', 'x') },
	{ name: 'SseClientError', code: 'SSE_CLIENT_DECODE', make: () => new SseClientError('decode', 'x') }
]

describe('errors', () => {
	test('every public error class is a SluiceError with its name and a stable, unique code', async () => {
		const seen = new Set<string>()
		for (const { name, code, make } of cases) {
			const error = await make()
			expect(error).toBeInstanceOf(SluiceError)
			expect(error).toBeInstanceOf(({ ...root, ...client, ...redisEntry, LineTooLongError } as Record<string, any>)[name])
			expect({ name: (error as Error).name, code: (error as { code: string }).code }).toEqual({ name, code })
			expect(seen.has(code)).toBe(false)
			seen.add(code)
		}
		// A class exported later without a case here fails this.
		const exported = [...Object.entries(root), ...Object.entries(client), ...Object.entries(validate), ...Object.entries(redisEntry)]
			.filter(([name, value]) => name.endsWith('Error') && typeof value === 'function')
			.map(([name]) => name)
		for (const name of exported) expect(cases.some((c) => c.name === name)).toBe(true)
		// One class, whichever entry point it comes from.
		expect(client.SluiceError).toBe(SluiceError)
		expect(new OptionError('x').code).toBe('OPTION_INVALID')
	})

	test('docs/errors.md lists every code Sluice raises, and no other', async () => {
		const page = await Bun.file(new URL('../docs/errors.md', import.meta.url)).text()
		const documented = [...page.matchAll(/^\| `\w+` \| `([A-Z_]+)` \|/gm)].map((m) => m[1])
		for (const { code } of cases) expect(documented).toContain(code)
		// Codes given as literals in the source (new SluiceError('HUB_CLOSED', ...), super('...'), code maps).
		const inSource = new Set<string>()
		for (const dir of ['src', 'plugins'])
			for await (const path of new Bun.Glob(`${dir}/**/*.ts`).scan(new URL('..', import.meta.url).pathname))
				for (const m of (await Bun.file(new URL(`../${path}`, import.meta.url)).text()).matchAll(
					/'((?:SSE|EVENT|BROADCAST|HUB|REDIS|NDJSON|LINE|OPTION|TOPICS|SHARED)_[A-Z_]+)'/g
				))
					inSource.add(m[1]!)
		expect(inSource.size).toBeGreaterThan(20)
		expect([...inSource].sort()).toEqual([...new Set(documented)].sort())
	})

	test('the base class imports nothing, so sluice/client pulls no server code through it', async () => {
		const source = await Bun.file(new URL('../src/errors.ts', import.meta.url)).text()
		expect(source).not.toMatch(/^\s*(import|export .* from)/m)
	})

	const start = startEach()
	test("a SluiceError a handler lets escape answers with its status, and Elysia's onError gets its code", async () => {
		const codes: unknown[] = []
		const app = new Elysia()
			.onError(({ code }) => {
				codes.push(code)
			})
			.get('/redis', () => {
				throw new RedisUnavailableError('redis transport: unreachable')
			})
			.get('/field', () => encodeSse({ id: 'a\rb' }))
		const { url } = start(app)
		const down = await fetch(`${url}/redis`)
		expect(down.status).toBe(503)
		expect(await down.text()).toBe('redis transport: unreachable')
		expect((await fetch(`${url}/field`)).status).toBe(500)
		expect(codes).toEqual(['REDIS_UNAVAILABLE', 'SSE_FIELD_INVALID'])
	})
})
