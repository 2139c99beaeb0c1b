import { afterAll, expect, test } from 'bun:test'
import { Elysia } from 'elysia'
import { streaming } from '../../plugins'
import { listen, until } from '../support/server'
import { readSse } from '../support/sse-reader'

// With the memory transport, the "cluster" is this process: clusterConnections() equals the registry's counts.
const app = new Elysia()
	.use(streaming())
	.get('/room', ({ subscribe }) => subscribe('room', { heartbeatMs: 0 }))
	.get('/cluster', ({ clusterConnections }) => clusterConnections())
	.get('/local', ({ connections }) => connections.counts())
const server = listen(app)
afterAll(() => server.stop())

test('clusterConnections() follows streams as they open and close', async () => {
	const get = async (path: string): Promise<any> => (await fetch(server.url + path)).json()
	const readers = await Promise.all([0, 1, 2].map(() => readSse(`${server.url}/room`)))
	await until(() => true)
	let cluster: any
	for (let i = 0; i < 100 && cluster?.total !== 3; i++) (cluster = await get('/cluster')), await Bun.sleep(10)
	expect(cluster).toMatchObject({ total: 3, byKind: { sse: 3 }, byTopic: { room: 3 }, byAddress: {} })
	const local = await get('/local')
	expect(cluster.byRoute).toEqual(local.byRoute)
	for (const r of readers) r.close()
	await until(() => readers.every((r) => r.ended), 2000, 'readers closed')
	for (let i = 0; i < 100 && cluster.total !== 0; i++) (cluster = await get('/cluster')), await Bun.sleep(10)
	expect(cluster).toMatchObject({ total: 0, byTopic: {} })
})
