import type { Socket } from 'bun'
import { createParser, type EventSourceParser } from 'eventsource-parser'

/**
 * An SSE subscriber on a raw Bun.connect socket (no 256-connection cap as with
 * fetch): it undoes the chunked framing as bytes arrive and parses the events
 * with eventsource-parser, keeping the ids of data events and the names of the
 * others. For load tests with hundreds of clients.
 */
export class SseSocket {
	/** Ids of the events named `event` (or unnamed, when `event` is undefined), in arrival order. */
	readonly ids: number[] = []
	/** Names of the other events received (e.g. `sluice:slow-consumer`). */
	readonly notices: string[] = []
	status = 0
	/** The response ended (its last chunk arrived). */
	ended = false
	/** The connection is closed. */
	closed = false
	#socket: Socket<undefined> | undefined
	#pending: Buffer = Buffer.alloc(0)
	#state: 'size' | 'data' | 'crlf' = 'size'
	#left = 0
	#parser: EventSourceParser
	#decoder = new TextDecoder()

	private constructor(readonly event: string | undefined) {
		this.#parser = createParser({
			onEvent: (e) => {
				if (e.event === event) this.ids.push(Number(e.id))
				else this.notices.push(e.event ?? 'message')
			}
		})
	}

	/** Opens `GET path` on 127.0.0.1:port, with Last-Event-ID when given. */
	static async open(port: number, path: string, { lastEventId, event }: { lastEventId?: string | number; event?: string } = {}): Promise<SseSocket> {
		const client = new SseSocket(event)
		let request = `GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\n`
		if (lastEventId !== undefined) request += `Last-Event-ID: ${lastEventId}\r\n`
		request += '\r\n'
		client.#socket = await Bun.connect({
			hostname: '127.0.0.1',
			port,
			socket: {
				open: (s) => void s.write(request),
				data: (_, d) => client.#receive(d),
				close: () => void (client.closed = true),
				error: () => void (client.closed = true)
			}
		})
		return client
	}

	/** The highest id received, 0 before any. */
	get lastId(): number {
		return this.ids.length ? this.ids[this.ids.length - 1]! : 0
	}

	/** Drops the connection at once, as a network failure or a killed client would. */
	terminate(): void {
		this.#socket?.terminate()
		this.closed = true
	}

	#receive(data: Buffer): void {
		let bytes: Buffer = this.#pending.length ? Buffer.concat([this.#pending, data]) : data
		if (!this.status) {
			const end = bytes.indexOf('\r\n\r\n')
			if (end === -1) return void (this.#pending = bytes)
			this.status = Number(bytes.subarray(0, end).toString('latin1').split(' ')[1])
			bytes = bytes.subarray(end + 4)
		}
		// Chunked framing: a hex size line, that many bytes, CRLF; size 0 ends the response.
		let at = 0
		for (;;) {
			if (this.#state === 'size') {
				const lineEnd = bytes.indexOf('\r\n', at)
				if (lineEnd === -1) break
				this.#left = parseInt(bytes.subarray(at, lineEnd).toString('latin1'), 16)
				at = lineEnd + 2
				if (this.#left === 0) {
					this.ended = true
					at = bytes.length
					break
				}
				this.#state = 'data'
			} else if (this.#state === 'data') {
				const take = Math.min(this.#left, bytes.length - at)
				if (take === 0) break
				this.#parser.feed(this.#decoder.decode(bytes.subarray(at, at + take), { stream: true }))
				at += take
				this.#left -= take
				if (this.#left === 0) this.#state = 'crlf'
			} else {
				if (bytes.length - at < 2) break
				at += 2
				this.#state = 'size'
			}
		}
		this.#pending = bytes.subarray(at)
	}
}

/** Spawns `n` busy loops (bounded to `seconds`), so a test runs with every core taken. Returns their stopper. */
export function burnCpu(n: number, seconds = 60): () => Promise<void> {
	const burners = Array.from({ length: n }, () =>
		Bun.spawn(['timeout', String(seconds), 'sh', '-c', 'while :; do :; done'], { stdout: 'ignore', stderr: 'ignore' })
	)
	return async () => {
		// SIGTERM: `timeout` passes it on to its loop (a SIGKILL would orphan the loop).
		for (const b of burners) b.kill('SIGTERM')
		await Promise.all(burners.map((b) => b.exited))
	}
}
