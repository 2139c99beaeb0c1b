/**
 * Reads one HTTP response over a raw socket (Bun.connect) as fast as it
 * arrives, until the end of its chunked body. Returns bytes read and seconds.
 * `headers`: extra request header lines, each ending in CRLF (an Accept-Encoding).
 */
export async function drainOnce(port: number, path: string, headers = ''): Promise<{ bytes: number; seconds: number }> {
	const terminator = Buffer.from('\r\n0\r\n\r\n')
	let bytes = 0
	let tail = Buffer.alloc(0)
	const t0 = performance.now()
	await new Promise<void>((resolve, reject) => {
		Bun.connect({
			hostname: '127.0.0.1',
			port,
			socket: {
				open(socket) {
					socket.write(`GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\n${headers}\r\n`)
				},
				data(socket, data) {
					bytes += data.byteLength
					tail = Buffer.concat([tail, data.subarray(Math.max(0, data.byteLength - 16))]).subarray(-16)
					if (tail.includes(terminator)) {
						socket.end()
						resolve()
					}
				},
				close() {
					resolve()
				},
				error(_, e) {
					reject(e)
				}
			}
		}).catch(reject)
	})
	return { bytes, seconds: (performance.now() - t0) / 1000 }
}
