// Replay bytes are shared, not copied per subscriber: clients that reconnect with an old id and do
// not read hold one page of references into the history each, not a copy of it (issue 10: 100 such
// clients used to add about 100 MB, one concatenated copy of the 1 MiB history each).
import { expect, test } from 'bun:test'
import net from 'node:net'
import { outputUntil } from '../support/child-output'

const CLIENTS = 100
const HISTORY = 1024 * 1024 // the default ring

interface Stats {
	rss: number
	subscribers: number
}

test(`${CLIENTS} clients replaying a full history without reading: server memory grows by far less than one history each`, async () => {
	const server = Bun.spawn(['bun', 'run', `${import.meta.dir}/replay-memory-server.ts`], { stdout: 'pipe', stderr: 'inherit' })
	const sockets: net.Socket[] = []
	try {
		const port = Number((await outputUntil(server.stdout, /:(\d+)/)).match(/:(\d+)/)![1])
		const base = `http://127.0.0.1:${port}`
		const stats = async (): Promise<Stats> => (await fetch(`${base}/stats`)).json() as Promise<Stats>
		// ~2 KB frames, the ring full (its oldest frames evicted), well inside the slow-consumer limit.
		const last = Number(await (await fetch(`${base}/fill/600/1990`, { method: 'POST' })).text())
		expect(last).toBe(600)
		// One client that reads the whole replay first: code compiled, pools sized, before the baseline.
		const warm = await fetch(`${base}/feed`, { headers: { 'last-event-id': '1' } })
		const body = warm.body!.getReader()
		let tail = ''
		for (;;) {
			const text = tail + new TextDecoder().decode((await body.read()).value)
			if (text.includes('id: 600\n')) break
			tail = text.slice(-64)
		}
		await body.cancel()
		const start = await stats()

		const request = `GET /feed HTTP/1.1\r\nHost: 127.0.0.1\r\nLast-Event-ID: 1\r\n\r\n`
		for (let i = 0; i < CLIENTS; i++) {
			const socket = net.connect(port, '127.0.0.1')
			socket.on('error', () => {})
			socket.pause() // never reads: the server's writes back up
			socket.write(request)
			sockets.push(socket)
		}
		let now = await stats()
		for (let i = 0; i < 200 && now.subscribers < CLIENTS; i++) now = (await Bun.sleep(25), await stats())
		expect(now.subscribers).toBe(CLIENTS)
		// Each replay has written as much as its socket would take; measured at its highest of a few reads.
		let peak = 0
		for (let i = 0; i < 5; i++) {
			await Bun.sleep(100)
			peak = Math.max(peak, (await stats()).rss)
		}
		const growth = peak - start.rss
		console.log(`replay memory: rss ${(start.rss / 1e6).toFixed(1)} MB, with ${CLIENTS} non-reading replays ${(peak / 1e6).toFixed(1)} MB (+${(growth / 1e6).toFixed(1)} MB)`)
		// A copy per client would be CLIENTS MiB; shared frames leave what the sockets buffer.
		expect(growth).toBeLessThan((CLIENTS * HISTORY) / 4)
	} finally {
		for (const s of sockets) s.destroy()
		server.kill()
		await server.exited
	}
}, 30_000)
