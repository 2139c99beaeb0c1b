// The control port of the storm benchmark's servers (Sluice's and raw Bun's): a
// publisher that runs at a set rate, a history fill to an exact byte count, and
// the server's own counts, CPU time and RSS. It is a Bun.serve of its own, so
// its requests are never counted among the streams being measured.

/** What a storm server publishes through: one frame of `data`, its id and encoded size. */
export interface StormTarget {
	publish(data: string): Promise<{ id: string; bytes: number }>
	/** Live subscribers of the storm topic in this process. */
	subscribers(): number
	/** Open streams the server has registered (the raw server: its subscribers). */
	streams(): number
}

/** An odd size between `min` and `max`, different for each `k`: no round numbers. */
const oddSize = (k: number, min: number, max: number) => (min + ((k * 7919) % (max - min))) | 1

/**
 * Serves the control routes on a port of its own and returns it:
 *  - POST /publish?rate=R&pad=P  publishes R frames a second (0 stops), ~P bytes of data each;
 *    answers once the previous publisher has stopped, with the last id.
 *  - POST /fill?bytes=B           publishes frames of odd sizes (1-3 KB) whose encoded bytes sum to
 *    exactly B (the publisher must be stopped); answers with their count and the last id.
 *  - GET /stats                   subscribers, streams, last id, frames published, CPU µs, RSS.
 */
export function serveStormControl(target: StormTarget): number {
	let lastId = '0'
	let published = 0
	let failed = 0
	let run = 0
	let running: Promise<void> = Promise.resolve()
	const publish = async (data: string) => {
		const frame = await target.publish(data)
		lastId = frame.id
		published++
		return frame
	}

	async function publisher(me: number, rate: number, pad: number) {
		const start = performance.now()
		let sent = 0
		while (run === me) {
			const due = Math.floor(((performance.now() - start) * rate) / 1000) + 1
			for (; sent < due && run === me; sent++) await publish('x'.repeat(oddSize(sent, pad, pad + 60))).catch(() => void failed++)
			await Bun.sleep(Math.max(1, Math.min(50, 1000 / rate)))
		}
	}

	async function fill(bytes: number) {
		// The encoded size of a frame is its data plus an overhead that depends only on the id's
		// digits: measured on the first frame, so the last one can be cut to land on `bytes`.
		const firstPad = oddSize(0, 1000, 3000)
		const first = await publish('x'.repeat(firstPad))
		const overheadOf = (id: number) => first.bytes - firstPad - first.id.length + String(id).length
		let left = bytes - first.bytes
		let frames = 1
		let id = Number(first.id)
		while (left > 0) {
			const overhead = overheadOf(++id)
			let pad = oddSize(frames, 1000, 3000)
			// Too little would be left for one more frame: this one takes the rest.
			if (left - (overhead + pad) < overhead + 1000) pad = left - overhead
			const frame = await publish('x'.repeat(pad))
			left -= frame.bytes
			frames++
		}
		return { frames, bytes: bytes - left, lastId }
	}

	const server = Bun.serve({
		port: 0,
		hostname: '127.0.0.1',
		idleTimeout: 0,
		async fetch(request) {
			const url = new URL(request.url)
			const param = (name: string) => Number(url.searchParams.get(name) ?? 0)
			switch (url.pathname) {
				case '/publish': {
					const me = ++run
					await running
					const rate = param('rate')
					if (rate > 0) running = publisher(me, rate, param('pad') || 150)
					return Response.json({ lastId })
				}
				case '/fill':
					return Response.json(await fill(param('bytes')))
				case '/stats': {
					const cpu = process.cpuUsage()
					return Response.json({
						subscribers: target.subscribers(),
						streams: target.streams(),
						lastId,
						published,
						failed,
						cpuUs: cpu.user + cpu.system,
						rss: process.memoryUsage().rss
					})
				}
			}
			return new Response('not found', { status: 404 })
		}
	})
	return server.port as number
}
