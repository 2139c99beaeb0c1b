import { resolve } from 'node:path'
import { freePort } from './example'

/** A server process of a test cluster. */
export interface ClusterNode {
	port: number
	url: string
	/** stderr so far (the transport's reported errors). */
	errors(): string
	/** SIGKILL: the process dies as in a crash, cleaning nothing up. */
	kill(): Promise<void>
}

/**
 * Starts `bun run <script>` with PORT and `env`, waits until it prints its URL.
 * `script` is relative to test/.
 */
export async function startNode(script: string, env: Record<string, string>, timeoutMs = 10_000): Promise<ClusterNode> {
	const port = freePort()
	const proc = Bun.spawn(['bun', 'run', resolve(import.meta.dir, '..', script)], {
		env: { ...process.env, ...env, PORT: String(port) },
		stdout: 'pipe',
		stderr: 'pipe'
	})
	let out = ''
	let err = ''
	const drain = async (stream: ReadableStream<Uint8Array>, add: (s: string) => void) => {
		const decoder = new TextDecoder()
		const reader = stream.getReader()
		for (;;) {
			const { value, done } = await reader.read()
			if (done) return
			add(decoder.decode(value, { stream: true }))
		}
	}
	void drain(proc.stdout, (s) => (out += s))
	void drain(proc.stderr, (s) => (err += s))
	const end = performance.now() + timeoutMs
	while (!out.includes(`:${port}`)) {
		if (proc.exitCode !== null) throw new Error(`${script} exited (${proc.exitCode}): ${out}${err}`)
		if (performance.now() > end) {
			proc.kill('SIGKILL')
			throw new Error(`${script} did not print its URL in ${timeoutMs} ms: ${out}${err}`)
		}
		await Bun.sleep(20)
	}
	return {
		port,
		url: `http://127.0.0.1:${port}`,
		errors: () => err,
		kill: async () => {
			proc.kill('SIGKILL')
			await proc.exited
		}
	}
}

/** POSTs JSON and returns the status and the body (parsed when it is JSON, else its text). */
export async function postJson(url: string, body: unknown, headers: Record<string, string> = {}): Promise<{ status: number; body: any }> {
	const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) })
	const text = await res.text()
	try {
		return { status: res.status, body: JSON.parse(text) }
	} catch {
		return { status: res.status, body: text }
	}
}
