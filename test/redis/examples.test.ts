import { afterAll, describe, expect, test } from 'bun:test'
import { type ExampleProcess, startExample } from '../support/example'
import { postJson } from '../support/cluster'
import { dropTestKeys, redisServerInstalled, startOwnRedis, uniquePrefix, type OwnRedis } from '../support/redis-server'
import { needService, redisAnswers, redisUrl } from '../support/services'
import { readSse, type SseReader } from '../support/sse-reader'
import { until } from '../support/server'
import { bearer, CHAT_SECRET, chatToken } from '../support/chat'

// The examples with REDIS_URL set: several processes share their broadcasts.
const { skip } = needService('redis', (await redisAnswers()) && redisServerInstalled)
const running: ExampleProcess[] = []
const readers: SseReader[] = []
const servers: OwnRedis[] = []

async function example(name: string, env: Record<string, string>, args: string[] = []) {
	const proc = await startExample(name, { env, args, timeoutMs: 20_000 })
	running.push(proc)
	return proc
}
async function read(url: string, lastEventId?: string) {
	const reader = await readSse(url, { lastEventId })
	readers.push(reader)
	expect(reader.status).toBe(200)
	return reader
}
const alive = (pid: number) => {
	try {
		process.kill(pid, 0)
		return true
	} catch {
		return false
	}
}
const ofType = (r: SseReader, type: string) => r.events.map((e) => JSON.parse(e.data)).filter((d) => d.type === type)

afterAll(async () => {
	for (const r of readers) r.close()
	await Promise.all(running.map((p) => p.stop()))
	await Promise.all(servers.map((s) => s.stop()))
	if (!skip) await dropTestKeys(redisUrl)
})

describe.skipIf(skip)('examples over Redis', () => {
	test('cluster.ts runs broadcast as 2 workers on one port: every subscriber gets every message once, in order; counts are cluster-wide', async () => {
		const cluster = await example(
			'cluster',
			{ REDIS_URL: redisUrl, REDIS_PREFIX: uniquePrefix('cluster-example'), BROADCAST_INTERVAL_MS: '100' },
			['broadcast', '--workers', '2']
		)
		expect(cluster.output()).toMatch(/2 workers of broadcast listening on http:\/\/localhost:\d+/)
		const pids = [...cluster.output().matchAll(/worker \d: pid (\d+)/g)].map((m) => Number(m[1]))
		expect(pids.length).toBe(2)
		// Last-Event-ID 0: the server answers once its Redis subscription is live.
		const subscribers = await Promise.all(Array.from({ length: 6 }, () => read(`${cluster.url}/broadcast-stream`, '0')))
		await Bun.sleep(300)
		const sent: string[] = []
		for (let i = 1; i <= 10; i++) {
			const res = await postJson(`${cluster.url}/broadcast`, { message: `m${i}`, sender: 'test' })
			expect(res.status).toBe(200)
			expect(res.body.recipients).toBe(6)
			sent.push(res.body.id)
		}
		// One id sequence for the topic across both workers (periodic messages take ids too).
		expect(sent.map(Number)).toEqual([...sent.map(Number)].sort((x, y) => x - y))
		expect(new Set(sent).size).toBe(10)
		const manual = (r: SseReader) => r.events.filter((e) => JSON.parse(e.data).type === 'manual_broadcast')
		await until(() => subscribers.every((r) => manual(r).length >= 10), 5000, '10 messages on every subscriber')
		await Bun.sleep(100)
		for (const r of subscribers) {
			expect(manual(r).map((e) => e.id)).toEqual(sent)
			expect(manual(r).map((e) => JSON.parse(e.data).message)).toEqual(sent.map((_, i) => `m${i + 1}`))
		}
		// Every frame once, in id order, on every subscriber (manual and periodic alike).
		for (const r of subscribers) {
			const ids = r.events.map((e) => Number(e.id))
			expect(ids).toEqual([...new Set(ids)].sort((x, y) => x - y))
		}
		// Only worker 0 sends the periodic message: its counter never repeats.
		const periodic = subscribers[0]!.events.map((e) => JSON.parse(e.data)).filter((d) => d.type === 'broadcast')
		expect(periodic.length).toBeGreaterThan(0)
		expect(new Set(periodic.map((d) => d.id)).size).toBe(periodic.length)
		for (const r of subscribers) r.close()

		// A worker that dies is replaced; the other serves meanwhile.
		process.kill(pids[0]!, 'SIGKILL')
		const restarted = () => [...cluster.output().matchAll(/worker 0: pid (\d+)/g)].map((m) => Number(m[1])).at(-1)!
		await until(() => restarted() !== pids[0], 5000, 'worker 0 to be restarted')
		expect(alive(restarted())).toBe(true)
		let ok = 0
		for (let i = 0; i < 20 && ok < 3; i++) {
			if ((await postJson(`${cluster.url}/broadcast`, { message: 'again', sender: 'test' })).status === 200) ok++
			else await Bun.sleep(100)
		}
		expect(ok).toBe(3)

		await cluster.stop()
		const all = [restarted(), pids[1]!]
		await until(() => all.every((pid) => !alive(pid)), 5000, 'the workers to exit')
	}, 30_000)

	test('chat on two processes: a message sent on B reaches a user on A; a Redis outage neither crashes them nor ends the streams', async () => {
		const server = await startOwnRedis()
		servers.push(server)
		const env = { REDIS_URL: server.url, REDIS_PREFIX: uniquePrefix('chat'), HEARTBEAT_MS: '200', CHAT_SECRET }
		const [a, b] = await Promise.all([example('chat', env), example('chat', env)])
		const asBob = bearer(chatToken('Bob'))
		const alice = await read(`${a!.url}/chat/Alice?token=${chatToken('Alice')}`)
		const bob = await read(`${b!.url}/chat/Bob?token=${chatToken('Bob')}`)
		await until(() => ofType(alice, 'user_joined').some((d) => d.user === 'Bob'), 5000, 'Alice to see Bob join')
		expect((await postJson(`${b!.url}/chat/send`, { message: 'hello from B' }, asBob)).status).toBe(200)
		await until(() => ofType(alice, 'chat_message').length === 1, 5000, 'the message on A')
		expect(ofType(alice, 'chat_message')[0]).toMatchObject({ sender: 'Bob', message: 'hello from B' })

		await server.stop()
		await Bun.sleep(300)
		// Joining and leaving announce presence: with Redis away those publishes fail, and must not crash.
		const carol = await read(`${a!.url}/chat/Carol?token=${chatToken('Carol')}`)
		await Bun.sleep(200)
		carol.close()
		const refused = await postJson(`${b!.url}/chat/send`, { message: 'during' }, asBob)
		expect(refused.status).toBeGreaterThanOrEqual(500)
		expect(JSON.stringify(refused.body)).toMatch(/unreachable; publish refused/)
		await Bun.sleep(500)
		expect([alice.ended, bob.ended]).toEqual([false, false])
		expect((await fetch(`${a!.url}/`)).status).toBe(200)

		await server.start()
		let status = 0
		for (let i = 0; i < 100 && status !== 200; i++) {
			status = (await postJson(`${b!.url}/chat/send`, { message: 'after' }, asBob)).status
			if (status !== 200) await Bun.sleep(50)
		}
		expect(status).toBe(200)
		await until(() => ofType(alice, 'chat_message').some((d) => d.message === 'after'), 5000, 'a message after the outage')
		expect(alice.ended).toBe(false)
	}, 30_000)
})
