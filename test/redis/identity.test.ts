// close({ user }) and close({ topic }) on one process end the matching streams on every
// process of the cluster (two processes on the real Redis), within a second.
import { afterAll, describe, expect, test } from 'bun:test'
import { type ClusterNode, startNode } from '../support/cluster'
import { dropTestKeys, uniquePrefix } from '../support/redis-server'
import { needService, redisAnswers, redisUrl } from '../support/services'
import { readSse, type SseReader } from '../support/sse-reader'
import { until } from '../support/server'

const { skip } = needService('redis', await redisAnswers())
const nodes: ClusterNode[] = []
const readers: SseReader[] = []

afterAll(async () => {
	for (const r of readers) r.close()
	await Promise.all(nodes.map((n) => n.kill()))
	if (!skip) await dropTestKeys(redisUrl)
})

async function open(node: ClusterNode, topic: string, user: string): Promise<SseReader> {
	const reader = await readSse(`${node.url}/stream/${topic}?user=${user}`)
	readers.push(reader)
	expect(reader.status).toBe(200)
	return reader
}
const close = async (node: ClusterNode, query: string) =>
	((await (await fetch(`${node.url}/close?${query}`, { method: 'POST' })).json()) as { closed: number }).closed
const byUser = async (node: ClusterNode) => ((await (await fetch(`${node.url}/counts`)).json()) as { byUser: Record<string, number> }).byUser

describe.skipIf(skip)('identity across processes (redis)', () => {
	test('close({ user }) on A ends the user\'s streams on A and B within a second; close({ topic }) on B ends the topic\'s on both', async () => {
		const prefix = uniquePrefix('identity')
		const [a, b] = await Promise.all([0, 1].map(() => startNode('redis/fixtures/identity-node.ts', { REDIS_URL: redisUrl, PREFIX: prefix })))
		nodes.push(a!, b!)
		const aliceA = await open(a!, 'room', 'alice')
		const aliceB = await open(b!, 'lobby', 'alice')
		const bobA = await open(a!, 'room', 'bob')
		const bobB = await open(b!, 'news', 'bob')
		const carolB = await open(b!, 'news', 'carol')
		expect([await byUser(a!), await byUser(b!)]).toEqual([
			{ alice: 1, bob: 1 },
			{ alice: 1, bob: 1, carol: 1 }
		])

		const sent = performance.now()
		// The answer counts this process's streams; B's are closed by the control message.
		expect(await close(a!, 'user=alice')).toBe(1)
		await until(() => aliceA.ended && aliceB.ended, 3000, "alice's streams on both processes to end")
		expect(performance.now() - sent).toBeLessThan(1000)
		expect(await byUser(b!)).toEqual({ bob: 1, carol: 1 })

		const sentTopic = performance.now()
		expect(await close(b!, 'topic=news')).toBe(2)
		await until(() => bobB.ended && carolB.ended, 3000, "news's streams to end")
		// A has no subscriber of news: its bob on room stays, as does everything not asked for.
		await Bun.sleep(200)
		expect([bobA.ended, await byUser(a!), await byUser(b!)]).toEqual([false, { bob: 1 }, {}])
		expect(performance.now() - sentTopic).toBeLessThan(1500)

		// Closing bob everywhere from B, which has none of his streams left: A's ends.
		expect(await close(b!, 'user=bob')).toBe(0)
		await until(() => bobA.ended, 3000, "bob's stream on A to end")
		expect(b!.errors()).toBe('')
		expect(a!.errors()).toBe('')
	}, 20_000)
})
