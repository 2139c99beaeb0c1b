// 10,000 clients in waves, dropped abruptly: every count back to 0 and the server's RSS back where it was.
import { expect, test } from 'bun:test'
import type { Socket } from 'bun'
import { outputUntil } from '../support/child-output'

const WAVES = 5
const PER_WAVE = 2_000

interface Stats {
	rss: number
	subscribers: number
	topics: number
	connections: number
}

test('churn: 10,000 subscribers in waves, dropped without a clean close', async () => {
	const server = Bun.spawn(['bun', 'run', `${import.meta.dir}/churn-server.ts`], {
		stdout: 'pipe',
		stderr: 'inherit'
	})
	try {
		const port = Number((await outputUntil(server.stdout, /:(\d+)/)).match(/:(\d+)/)![1])
		const base = `http://127.0.0.1:${port}`
		const stats = async (): Promise<Stats> => (await fetch(`${base}/stats`)).json() as Promise<Stats>
		const settle = async (want: (s: Stats) => boolean, ms: number) => {
			const end = performance.now() + ms
			let s = await stats()
			while (!want(s) && performance.now() < end) {
				await Bun.sleep(50)
				s = await stats()
			}
			return s
		}
		// One wave first, so that code paths are compiled and the heap and socket pools have the
		// size a wave needs before the baseline: what is measured after is what 10,000 more leave.
		await wave(port, PER_WAVE, base)
		await settle((s) => s.subscribers === 0, 5000)
		const start = await stats()

		for (let w = 0; w < WAVES; w++) {
			const got = await wave(port, PER_WAVE, base)
			expect(got).toBe(PER_WAVE)
			const after = await settle((s) => s.subscribers === 0 && s.connections === 0, 5000)
			expect(after).toMatchObject({ subscribers: 0, topics: 0, connections: 0 })
		}
		const end = await settle((s) => s.rss <= start.rss * 1.1, 5000)
		console.log(`churn: rss at start ${(start.rss / 1e6).toFixed(1)} MB, after ${WAVES * PER_WAVE} clients ${(end.rss / 1e6).toFixed(1)} MB`)
		expect(end.rss).toBeLessThanOrEqual(start.rss * 1.1)
	} finally {
		server.kill()
		await server.exited
	}
}, 60_000)

/**
 * Opens `n` raw SSE subscribers, waits until each has its first frame (the last
 * published one), publishes one frame that all must receive, then drops them all
 * at once. Returns how many received the published frame.
 */
async function wave(port: number, n: number, base: string): Promise<number> {
	let ready = 0
	let received = 0
	let target = ''
	// The frame may arrive before the publish request's answer does.
	const check = (d: { text: string; got: boolean }) => {
		if (target && !d.got && d.text.includes(`id: ${target}\n`)) {
			d.got = true
			received++
		}
	}
	const request = `GET /feed HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n`
	const sockets: Socket<{ text: string; ok: boolean; got: boolean }>[] = []
	for (let i = 0; i < n; i += 200) {
		const batch = await Promise.all(
			Array.from({ length: Math.min(200, n - i) }, () =>
				Bun.connect<{ text: string; ok: boolean; got: boolean }>({
					hostname: '127.0.0.1',
					port,
					data: { text: '', ok: false, got: false },
					socket: {
						open: (s) => void s.write(request),
						data: (s, d) => {
							s.data.text += d.toString('latin1')
							if (!s.data.ok && s.data.text.includes('\r\n\r\n')) {
								s.data.ok = true
								ready++
							}
							check(s.data)
							if (s.data.text.length > 4096) s.data.text = s.data.text.slice(-256)
						},
						error: () => {}
					}
				})
			)
		)
		sockets.push(...batch)
	}
	const end = performance.now() + 10_000
	while (ready < n && performance.now() < end) await Bun.sleep(10)
	target = await (await fetch(`${base}/publish`, { method: 'POST' })).text()
	for (const s of sockets) check(s.data)
	while (received < n && performance.now() < end) await Bun.sleep(10)
	for (const s of sockets) s.terminate()
	return received
}
