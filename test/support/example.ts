import { resolve } from 'node:path'

/** A running example process. */
export interface ExampleProcess {
	url: string
	/** What the process printed to stdout so far. */
	output(): string
	stop(): Promise<void>
	/** True once the process has exited (a crash, when nothing stopped it). */
	exited(): boolean
	/** Sends `signal` and resolves once the process has exited, with how it exited. */
	signal(signal: NodeJS.Signals): Promise<{ exitCode: number | null; signalCode: string | number | null }>
}

/** A free TCP port on 127.0.0.1. */
export function freePort(): number {
	const s = Bun.serve({ port: 0, hostname: '127.0.0.1', fetch: () => new Response() })
	const port = s.port as number
	s.stop(true)
	return port
}

/**
 * Starts `bun run examples/<name>.ts` with PORT set, and waits until it prints
 * its URL. The process is killed by stop().
 */
export async function startExample(
	name: string,
	options: { env?: Record<string, string>; args?: string[]; timeoutMs?: number } = {}
): Promise<ExampleProcess> {
	// The free port can be taken by another process before the example listens on it (other
	// tests start servers at the same time): an example that exits with EADDRINUSE gets another.
	for (let attempt = 1; ; attempt++) {
		try {
			return await startOnce(name, options)
		} catch (error) {
			if (!(error instanceof PortTaken) || attempt === 3) throw error
		}
	}
}

class PortTaken extends Error {}

async function startOnce(
	name: string,
	{ env = {} as Record<string, string>, args = [] as string[], timeoutMs = 10_000 } = {}
): Promise<ExampleProcess> {
	const port = freePort()
	const proc = Bun.spawn(['bun', 'run', resolve(import.meta.dir, `../../examples/${name}.ts`), ...args], {
		// REDIS_URL is passed on only when the test asks (env): examples would otherwise
		// share one Redis's topics and history across tests (CI exports REDIS_URL).
		env: { ...process.env, REDIS_URL: undefined, PORT: String(port), ...env },
		stdout: 'pipe',
		stderr: 'pipe'
	})
	let errors = ''
	// Its stderr still reaches ours, as with 'inherit'; kept to tell a taken port from a crash.
	;(async () => {
		const decoder = new TextDecoder()
		for await (const chunk of proc.stderr) {
			errors += decoder.decode(chunk)
			process.stderr.write(chunk)
		}
	})()
	let out = ''
	const reader = proc.stdout.getReader()
	const decoder = new TextDecoder()
	const url = `http://127.0.0.1:${port}`
	;(async () => {
		for (;;) {
			const { value, done } = await reader.read()
			if (done) return
			out += decoder.decode(value)
		}
	})()
	const end = performance.now() + timeoutMs
	while (!out.includes(`:${port}`)) {
		if (proc.exitCode !== null) {
			await Bun.sleep(50) // the rest of its stderr
			if (errors.includes('EADDRINUSE')) throw new PortTaken(`example ${name}: port ${port} was taken`)
			throw new Error(`example ${name} exited (${proc.exitCode}): ${out}`)
		}
		if (performance.now() > end) {
			proc.kill()
			throw new Error(`example ${name} did not print its URL in ${timeoutMs} ms: ${out}`)
		}
		await Bun.sleep(20)
	}
	return {
		url,
		output: () => out,
		exited: () => proc.exitCode !== null || proc.signalCode !== null,
		stop: async () => {
			proc.kill()
			await proc.exited
		},
		signal: async (signal) => {
			proc.kill(signal)
			await proc.exited
			return { exitCode: proc.exitCode, signalCode: proc.signalCode }
		}
	}
}
