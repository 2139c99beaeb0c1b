// connect() with headers as a function: called before every (re)connect, so a client can
// send a fresh token each time. The server takes each token once: an old one is a 401.
import { expect, test } from 'bun:test'
import { Elysia } from 'elysia'
import { streaming } from '../plugins'
import { connect } from '../src/client'
import { SseClientError } from '../src/client/errors'
import { startEach } from './support/server'

const start = startEach()

/** A server whose stream takes each token once (t1, then t2...), and ends after one event. */
function tokenServer() {
	let next = 1
	const seen: string[] = []
	const app = new Elysia()
		.use(streaming())
		.post('/token', () => `t${next}`)
		.get('/feed', ({ sse, request }) => {
			const token = /^Bearer (\S+)$/.exec(request.headers.get('authorization') ?? '')?.[1] ?? ''
			seen.push(token)
			if (token !== `t${next}`) return new Response('stale or missing token', { status: 401 })
			next++
			// One event, then the stream ends: the client reconnects after the retry hint.
			return sse([{ id: token, retry: 20, data: token }])
		})
	return { url: start(app).url, seen }
}

test('an async headers function runs before every reconnect: each attempt carries a fresh token', async () => {
	const { url, seen } = tokenServer()
	let calls = 0
	const reader = connect(`${url}/feed`, {
		retryMs: 20,
		headers: async () => {
			calls++
			const token = await (await fetch(`${url}/token`, { method: 'POST' })).text()
			return { authorization: `Bearer ${token}` }
		}
	})
	const got: string[] = []
	for await (const m of reader) if (got.push(m.data) === 3) break
	expect(got).toEqual(['t1', 't2', 't3'])
	expect(calls).toBe(3)
	expect(seen).toEqual(['t1', 't2', 't3'])
})

test('a sync headers function is called each time too; fixed headers send the stale token and stop at the 401', async () => {
	const { url, seen } = tokenServer()
	let calls = 0
	const reader = connect(`${url}/feed`, { retryMs: 20, headers: () => ({ authorization: `Bearer t${++calls}` }) })
	const got: string[] = []
	for await (const m of reader) if (got.push(m.data) === 2) break
	expect(got).toEqual(['t1', 't2'])

	// The same token every time: the next attempt is refused, and a 401 is not retried.
	const fixed = connect(`${url}/feed`, { retryMs: 20, headers: { authorization: 'Bearer t3' } })
	const error = await (async () => {
		try {
			for await (const _ of fixed) {
			}
		} catch (caught) {
			return caught
		}
	})()
	expect(error).toBeInstanceOf(SseClientError)
	expect((error as SseClientError).status).toBe(401)
	expect(seen).toEqual(['t1', 't2', 't3', 't3'])
})

test('a headers function that throws is a failed attempt, retried after the delay', async () => {
	const { url, seen } = tokenServer()
	let calls = 0
	const attempts: unknown[] = []
	const reader = connect(`${url}/feed`, {
		retryMs: 20,
		onReconnect: ({ error }) => void attempts.push(error),
		headers: () => {
			if (++calls === 1) throw new Error('token service down')
			return { authorization: 'Bearer t1' }
		}
	})
	for await (const m of reader) {
		expect(m.data).toBe('t1')
		break
	}
	expect([calls, seen]).toEqual([2, ['t1']])
	expect((attempts[0] as Error).message).toBe('token service down')
})
