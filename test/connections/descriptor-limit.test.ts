// At the process's descriptor limit every client must get an answer: streams
// past the default limit are refused with 503, none hangs at accept.
import { afterEach, describe, expect, test } from 'bun:test'
import { descriptorLimit, streamLimitFor } from '../../src/connections/descriptor-limit'
import { resolveLimits } from '../../src/connections/limits'
import { RawClient } from '../support/raw-http'
import { until } from '../support/server'
import { outputUntil } from '../support/child-output'

const clients: RawClient[] = []
let server: Bun.Subprocess<'ignore', 'pipe', 'inherit'> | undefined
afterEach(async () => {
	for (const c of clients.splice(0)) c.destroy()
	server?.kill()
	await server?.exited
	server = undefined
})

/** Starts fd-limit-server.ts under `ulimit -n <limit>`; resolves with its port. */
async function serverUnder(limit: number, connections: object): Promise<number> {
	server = Bun.spawn(['bash', '-c', `ulimit -n ${limit} && exec bun run ${import.meta.dir}/fd-limit-server.ts`], {
		env: { ...process.env, CONNECTIONS: JSON.stringify(connections) },
		stdout: 'pipe',
		stderr: 'inherit'
	})
	return Number((await outputUntil(server.stdout, /:(\d+)/)).match(/:(\d+)/)![1])
}

const stats = async (port: number) =>
	(await (await fetch(`http://127.0.0.1:${port}/stats`)).json()) as { streams: number; maxStreams: number }

describe('the default stream limit, from the descriptor limit', () => {
	test('floor((limit - 64) / 2), at least 1; 0 and Infinity turn it off', () => {
		expect(streamLimitFor(300)).toBe(118)
		expect(streamLimitFor(1024)).toBe(480)
		expect(streamLimitFor(10)).toBe(1)
		expect(streamLimitFor(Infinity)).toBe(Infinity)
		expect(resolveLimits().maxStreams).toBe(streamLimitFor(descriptorLimit()))
		expect(resolveLimits({ maxStreams: 0, maxPerAddress: 0 })).toEqual({
			maxStreams: Infinity,
			maxPerAddress: Infinity,
			retryAfterSeconds: 5
		})
		expect(() => resolveLimits({ maxStreams: -1 })).toThrow(/maxStreams must be a number >= 0/)
		expect(() => resolveLimits({ maxPerAddress: NaN })).toThrow(/maxPerAddress/)
	})

	test(
		'under ulimit -n 300, 400 streams at once: each gets 200 or 503 (none hangs), other routes answer, and it recovers',
		async () => {
			// Every client comes from 127.0.0.1 here: the per-address limit is turned off to reach the total.
			const port = await serverUnder(300, { maxPerAddress: 0 })
			const { maxStreams } = await stats(port)
			expect(maxStreams).toBe(streamLimitFor(300))

			const all = await Promise.all(
				Array.from({ length: 400 }, async () => {
					const client = await RawClient.request(port, '/s')
					clients.push(client)
					return client
				})
			)
			// A generous bound for a busy machine; before the limit, 106 of 400 had no status line after 5 s.
			const hung: RawClient[] = []
			await Promise.all(all.map((c) => c.waitFor((c) => c.status > 0, 15_000).catch(() => hung.push(c))))
			expect(hung.length).toBe(0)
			const statuses = all.map((c) => c.status)
			expect(statuses.filter((s) => s === 200).length).toBe(maxStreams)
			expect(statuses.filter((s) => s === 503).length).toBe(400 - maxStreams)
			const refused = all.find((c) => c.status === 503)!
			expect(refused.head).toMatch(/\r\nretry-after: 5\r\n/i)
			// A refused client's socket is closed: it holds no descriptor.
			await until(() => refused.closed, 5000, 'the refused connection to close')

			// With every stream slot taken, the server still answers other routes.
			const ping = await fetch(`http://127.0.0.1:${port}/ping`)
			expect(await ping.text()).toBe('pong')
			expect((await stats(port)).streams).toBe(maxStreams)

			for (const c of clients.splice(0)) c.destroy()
			const end = performance.now() + 5000
			while ((await stats(port)).streams > 0 && performance.now() < end) await Bun.sleep(20)
			expect((await stats(port)).streams).toBe(0)
			const again = await RawClient.request(port, '/s')
			clients.push(again)
			await again.waitFor((c) => c.status > 0, 5000)
			expect(again.status).toBe(200)
		},
		40_000
	)
})
