// examples/chat.ts with identity: a token from POST /login opens only its own user's stream,
// the sender is the token's user, an expired token's stream ends and the client comes back
// with a fresh one without a gap, and an admin's kick ends a user's streams on every process.
import { afterAll, describe, expect, test } from 'bun:test'
import { connect } from '../../src/client'
import { bearer, CHAT_SECRET, chatToken } from '../support/chat'
import { postJson } from '../support/cluster'
import { startExample, type ExampleProcess } from '../support/example'
import { dropTestKeys, uniquePrefix } from '../support/redis-server'
import { needService, redisAnswers, redisUrl } from '../support/services'
import { readSse, type SseReader } from '../support/sse-reader'
import { until } from '../support/server'

const running: ExampleProcess[] = []
const readers: SseReader[] = []
const ADMIN = 'chat-admin-token'
afterAll(async () => {
	for (const r of readers) r.close()
	await Promise.all(running.map((p) => p.stop()))
})

async function chat(env: Record<string, string> = {}) {
	const app = await startExample('chat', { env: { CHAT_SECRET, ADMIN_TOKEN: ADMIN, HEARTBEAT_MS: '200', ...env }, timeoutMs: 20_000 })
	running.push(app)
	return app
}
async function read(url: string, headers: Record<string, string> = {}) {
	const reader = await readSse(url + (headers.authorization ? `?token=${headers.authorization.slice(7)}` : ''))
	readers.push(reader)
	return reader
}
const login = async (url: string, username: string) => (await postJson(`${url}/login`, { username })).body as { token: string; user: string; expiresAt: number }
const dataOf = (r: SseReader, event = 'message') => r.events.filter((e) => (e.event ?? 'message') === event).map((e) => JSON.parse(e.data))

test('a token opens only its own user\'s room; without one, 401; the sender is the token\'s user, whatever the body says', async () => {
	const app = await chat()
	const { token, user, expiresAt } = await login(app.url, 'Alice')
	expect(user).toBe('Alice')
	expect(expiresAt - Date.now()).toBeGreaterThan(3500 * 1000)
	// No token, a forged one, an expired one: 401 with a Bearer challenge.
	const forged = token.slice(0, -2) + (token.endsWith('AA') ? 'BB' : 'AA')
	for (const headers of [{}, bearer(forged), bearer(chatToken('Alice', -10)), { authorization: 'Basic QWxpY2U6eA==' }]) {
		const res = await fetch(`${app.url}/chat/Alice`, { headers })
		expect([res.status, res.headers.get('www-authenticate')]).toEqual([401, 'Bearer'])
		expect((await postJson(`${app.url}/chat/send`, { message: 'hi' }, headers)).status).toBe(401)
	}
	// Alice's token does not open Bob's stream.
	const other = await fetch(`${app.url}/chat/Bob`, { headers: bearer(token) })
	expect(other.status).toBe(403)
	expect(await other.json()).toEqual({ error: 'this token is for Alice, not Bob' })

	// The header form and the ?token= form (for EventSource) both open the stream.
	const alice = await readSse(`${app.url}/chat/Alice?token=${token}`)
	readers.push(alice)
	expect(alice.status).toBe(200)
	const bobToken = (await login(app.url, 'Bob')).token
	const bob = await fetch(`${app.url}/chat/Bob`, { headers: { ...bearer(bobToken), accept: 'text/event-stream' } })
	expect(bob.status).toBe(200)
	await until(() => dataOf(alice, 'join').some((j) => j.user === 'Bob'), 3000, 'Bob joins')

	const sent = await postJson(`${app.url}/chat/send`, { sender: 'Mallory', message: 'it was me' }, bearer(bobToken))
	expect(sent.status).toBe(200)
	expect(sent.body.message).toMatchObject({ sender: 'Bob', message: 'it was me' })
	await until(() => dataOf(alice).length === 1, 3000, 'the message')
	expect(dataOf(alice)[0]).toMatchObject({ sender: 'Bob', message: 'it was me' })
	await bob.body?.cancel()
	// Admin routes want the admin token.
	expect((await postJson(`${app.url}/admin/kick/Bob`, {})).status).toBe(401)
	expect((await postJson(`${app.url}/admin/kick/Bob`, {}, bearer(token))).status).toBe(403)
})

test('a token that expires ends the stream with sluice:expired; connect() logs in again and reads on from its Last-Event-ID, no gap', async () => {
	const app = await chat({ TOKEN_TTL_S: '1' })
	let logins = 0
	const reader = connect(`${app.url}/chat/Ann`, {
		retryMs: 50,
		headers: async () => {
			logins++
			return bearer((await login(app.url, 'Ann')).token)
		}
	})
	const seen: { id?: string; event: string }[] = []
	let n = 0
	const publisher = setInterval(() => void postJson(`${app.url}/chat/send`, { message: `m${++n}` }, bearer(chatToken('Sam'))), 100)
	try {
		for await (const m of reader) {
			seen.push({ id: m.id, event: m.event })
			if (logins >= 3 && seen.filter((s) => s.event === 'message').length >= 20) break
		}
	} finally {
		clearInterval(publisher)
	}
	// The stream ended at least twice for its token, and each time came back with a new one.
	expect(seen.filter((s) => s.event === 'sluice:expired').length).toBeGreaterThanOrEqual(2)
	expect(logins).toBeGreaterThanOrEqual(3)
	// Every frame of the room since Ann first joined, once, in order: ids without a gap.
	const ids = seen.filter((s) => s.id).map((s) => Number(s.id))
	expect(ids).toEqual(Array.from({ length: ids.length }, (_, i) => ids[0]! + i))
}, 20_000)

const { skip } = needService('redis', await redisAnswers())
describe.skipIf(skip)('the chat on two processes (redis)', () => {
	afterAll(async () => {
		if (!skip) await dropTestKeys(redisUrl)
	})
	test('an admin\'s kick on A ends the user\'s streams on A and B, and no one else\'s', async () => {
		const env = { REDIS_URL: redisUrl, REDIS_PREFIX: uniquePrefix('chat-kick') }
		const [a, b] = await Promise.all([chat(env), chat(env)])
		// A token from A's login works on B: the processes share CHAT_SECRET.
		const alice = (await login(a!.url, 'Alice')).token
		const onA = await read(`${a!.url}/chat/Alice`, bearer(alice))
		const onB = await read(`${b!.url}/chat/Alice`, bearer(alice))
		const bob = await read(`${b!.url}/chat/Bob`, bearer(chatToken('Bob')))
		for (const r of [onA, onB, bob]) expect(r.status).toBe(200)
		await until(() => dataOf(onA, 'join').some((j) => j.user === 'Bob'), 5000, 'the joins to cross processes')

		const kicked = await postJson(`${a!.url}/admin/kick/Alice`, {}, bearer(ADMIN))
		expect(kicked).toEqual({ status: 200, body: { user: 'Alice', closedHere: 1 } })
		await until(() => onA.ended && onB.ended, 1000, "Alice's streams on both processes to end")
		await until(() => dataOf(bob, 'leave').length === 2, 3000, 'two leaves')
		expect(dataOf(bob, 'leave').map((l) => l.user)).toEqual(['Alice', 'Alice'])
		expect(bob.ended).toBe(false)
	}, 30_000)
})
