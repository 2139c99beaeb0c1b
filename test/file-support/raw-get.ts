import net from 'node:net'

/**
 * A raw GET for large bodies: counts body bytes instead of keeping them (a
 * RawClient keeps every byte), can stop reading, and can drop the connection.
 */
export class RawDownload {
	readonly socket: net.Socket
	head = ''
	bodyBytes = 0
	closed = false
	#pending = Buffer.alloc(0)
	#keep: Buffer[] = []
	readonly ended: Promise<void>

	constructor(port: number, path: string, headers: Record<string, string> = {}, readonly keepBody = false) {
		this.socket = net.connect(port, '127.0.0.1')
		let head = `GET ${path} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nConnection: close\r\n`
		for (const [k, v] of Object.entries(headers)) head += `${k}: ${v}\r\n`
		this.socket.write(head + '\r\n')
		this.socket.on('data', (d: Buffer) => {
			if (!this.head) {
				this.#pending = Buffer.concat([this.#pending, d])
				const end = this.#pending.indexOf('\r\n\r\n')
				if (end === -1) return
				this.head = this.#pending.subarray(0, end).toString('latin1')
				d = this.#pending.subarray(end + 4)
			}
			this.bodyBytes += d.length
			if (this.keepBody) this.#keep.push(Buffer.from(d))
		})
		this.socket.on('error', () => {})
		this.ended = new Promise((resolve) =>
			this.socket.on('close', () => {
				this.closed = true
				resolve()
			})
		)
	}

	get status(): number {
		return Number(this.head.split(' ')[1])
	}

	header(name: string): string | undefined {
		const line = this.head.split('\r\n').find((l) => l.toLowerCase().startsWith(name.toLowerCase() + ':'))
		return line?.slice(name.length + 1).trim()
	}

	body(): Buffer {
		return Buffer.concat(this.#keep)
	}
}
