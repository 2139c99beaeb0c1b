import net from 'node:net'

/**
 * A raw HTTP/1.1 client on a node:net socket: it sees the exact bytes, can stop
 * reading (pause) to act as a slow client, and can drop the connection abruptly.
 */
export class RawClient {
	readonly socket: net.Socket
	/** Every byte received, headers included. */
	raw = Buffer.alloc(0)
	#waiters: (() => void)[] = []
	closed = false

	private constructor(socket: net.Socket) {
		this.socket = socket
		socket.on('data', (d: Buffer) => {
			this.raw = Buffer.concat([this.raw, d])
			for (const w of this.#waiters.splice(0)) w()
		})
		socket.on('close', () => {
			this.closed = true
			for (const w of this.#waiters.splice(0)) w()
		})
		socket.on('error', () => {})
	}

	/** Connects to 127.0.0.1:port and sends a request. */
	static async request(
		port: number,
		path: string,
		{ method = 'GET', headers = {} as Record<string, string>, body = '' } = {}
	): Promise<RawClient> {
		const socket = net.connect(port, '127.0.0.1')
		await new Promise<void>((resolve, reject) => {
			socket.once('connect', resolve)
			socket.once('error', reject)
		})
		const client = new RawClient(socket)
		let head = `${method} ${path} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\n`
		for (const [k, v] of Object.entries(headers)) head += `${k}: ${v}\r\n`
		if (body) head += `Content-Length: ${Buffer.byteLength(body)}\r\n`
		socket.write(head + '\r\n' + body)
		return client
	}

	/** The response head as text, once it has arrived. */
	get head(): string {
		const end = this.raw.indexOf('\r\n\r\n')
		return end === -1 ? '' : this.raw.subarray(0, end).toString('latin1')
	}

	/** The status code, once the head has arrived. */
	get status(): number {
		return Number(this.head.split(' ')[1])
	}

	/** The body with chunked framing removed (whatever has arrived so far). */
	get body(): string {
		return this.bodyBytes.toString('utf8')
	}

	/** The body's bytes with chunked framing removed (a compressed body is read from these). */
	get bodyBytes(): Buffer {
		const end = this.raw.indexOf('\r\n\r\n')
		if (end === -1) return Buffer.alloc(0)
		const rest = this.raw.subarray(end + 4)
		if (!/transfer-encoding: chunked/i.test(this.head)) return rest
		const parts: Buffer[] = []
		let at = 0
		while (at < rest.length) {
			const lineEnd = rest.indexOf('\r\n', at)
			if (lineEnd === -1) break
			const size = parseInt(rest.subarray(at, lineEnd).toString('latin1'), 16)
			if (!size || lineEnd + 2 + size > rest.length) break
			parts.push(rest.subarray(lineEnd + 2, lineEnd + 2 + size))
			at = lineEnd + 2 + size + 2
		}
		return Buffer.concat(parts)
	}

	/** Waits until `predicate` holds over what arrived, or rejects after `ms`. */
	async waitFor(predicate: (c: RawClient) => boolean, ms = 3000): Promise<void> {
		const end = performance.now() + ms
		while (!predicate(this)) {
			if (this.closed) throw new Error('connection closed before the condition held')
			const left = end - performance.now()
			if (left <= 0) throw new Error(`timed out after ${ms} ms; got: ${this.raw.toString().slice(-300)}`)
			await new Promise<void>((resolve) => {
				const t = setTimeout(resolve, left)
				this.#waiters.push(() => {
					clearTimeout(t)
					resolve()
				})
			})
		}
	}

	/** Stops reading from the socket (the server's writes back up). */
	pause(): void {
		this.socket.pause()
	}

	resume(): void {
		this.socket.resume()
	}

	/** Drops the connection at once (RST-like; no clean close). */
	destroy(): void {
		this.socket.resetAndDestroy?.() ?? this.socket.destroy()
	}
}
