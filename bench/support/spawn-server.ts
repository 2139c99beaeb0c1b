/** A server process started for a benchmark; it prints `PORT <n>` when ready. */
export interface BenchServer {
	port: number
	/** A second port, when the server printed `CONTROL <n>` too. */
	control?: number
	/** The server's process id (for /proc, or a kill -9). */
	pid: number
	/** Resolves with the exit code once the process has ended. */
	exited: Promise<number>
	/** Resident set size of the server process, in bytes (from /proc). */
	rss(): number
	stop(): Promise<void>
}

/**
 * Starts `bun run <script> ...args` (with `env` added) and waits for its `PORT <n>` line.
 * `raiseFileLimit` starts it with its descriptor limit at the hard limit (for thousands of sockets).
 */
export async function spawnServer(
	script: string,
	args: string[] = [],
	env: Record<string, string> = {},
	raiseFileLimit = false
): Promise<BenchServer> {
	const command = raiseFileLimit
		? ['bash', '-c', 'ulimit -n "$(ulimit -Hn)"; exec bun run "$0" "$@"', script, ...args]
		: ['bun', 'run', script, ...args]
	const proc = Bun.spawn(command, { stdout: 'pipe', stderr: 'inherit', env: { ...process.env, ...env } })
	const reader = proc.stdout.getReader()
	// A server that never listens is killed, so the benchmark ends instead of waiting forever.
	const timer = setTimeout(() => proc.kill('SIGKILL'), 30_000)
	let out = ''
	try {
		while (!/PORT (\d+)/.test(out)) {
			const { value, done } = await reader.read()
			if (done) throw new Error(`${script} ${args.join(' ')} exited before it listened: ${out}`)
			out += new TextDecoder().decode(value)
		}
	} finally {
		clearTimeout(timer)
	}
	reader.releaseLock()
	const port = Number(/PORT (\d+)/.exec(out)![1])
	const control = /CONTROL (\d+)/.exec(out)?.[1]
	return {
		port,
		control: control === undefined ? undefined : Number(control),
		pid: proc.pid,
		exited: proc.exited,
		rss: () => {
			const status = require('node:fs').readFileSync(`/proc/${proc.pid}/status`, 'utf8') as string
			return Number(/VmRSS:\s+(\d+)/.exec(status)![1]) * 1024
		},
		stop: async () => {
			proc.kill()
			await proc.exited
		}
	}
}
