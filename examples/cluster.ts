// Runs N processes of an example on one port (reusePort: the kernel spreads
// connections over them). With REDIS_URL set they share broadcast topics,
// history and counts through Redis.
//   REDIS_URL=redis://127.0.0.1:6379 bun run examples/cluster.ts broadcast --workers 4
import { resolve } from 'node:path'
import type { Subprocess } from 'bun'

const args = process.argv.slice(2)
const name = args.find((a, i) => !a.startsWith('--') && args[i - 1] !== '--workers') ?? 'broadcast'
const at = args.indexOf('--workers')
const workers = at === -1 ? navigator.hardwareConcurrency : Number(args[at + 1])
const port = Number(process.env.PORT ?? 3000)
const script = resolve(import.meta.dir, name.endsWith('.ts') ? name : `${name}.ts`)

if (!Number.isInteger(workers) || workers < 1) {
	console.error(`--workers must be a positive integer (got ${args[at + 1]})`)
	process.exit(2)
}
if (!(await Bun.file(script).exists())) {
	console.error(`no example at ${script}`)
	process.exit(2)
}
if (workers > 1 && !process.env.REDIS_URL)
	console.error('REDIS_URL is not set: each worker keeps its own broadcast topics (set it to share them)')

// What the workers must agree on, made once here when unset: a token one worker signs (chat's
// CHAT_SECRET) is checked by another, and the admin token is the same on all of them.
const shared = {
	CHAT_SECRET: process.env.CHAT_SECRET || crypto.randomUUID(),
	ADMIN_TOKEN: process.env.ADMIN_TOKEN || Buffer.from(crypto.getRandomValues(new Uint8Array(24))).toString('base64url')
}
const adminHint = process.env.ADMIN_TOKEN ? [] : [`admin token (ADMIN_TOKEN was not set, so one was made): ${shared.ADMIN_TOKEN}`]

let stopping = false
const procs: Subprocess[] = []
const listening = new Set<number>()
// Workers' output is held until all listen, so the cluster's URL is the first one printed.
let held: string[] | undefined = []
const print = (text: string) => (held ? held.push(text) : process.stdout.write(text))

function start(index: number): void {
	const proc = Bun.spawn(['bun', 'run', script], {
		env: { ...process.env, ...shared, PORT: String(port), REUSE_PORT: '1', WORKER: String(index) },
		stdout: 'pipe',
		stderr: 'inherit'
	})
	procs[index] = proc
	if (!held) console.log(`worker ${index}: pid ${proc.pid}`) // a restarted worker
	void (async () => {
		const decoder = new TextDecoder()
		const reader = proc.stdout.getReader()
		for (;;) {
			const { value, done } = await reader.read()
			if (done) break
			const text = decoder.decode(value, { stream: true })
			if (!listening.has(index) && text.includes(`:${port}`)) {
				listening.add(index)
				if (listening.size === workers && held) {
					// One write: a reader of stdout sees the URL and every pid together.
					console.log(
						[
							`${workers} workers of ${name} listening on http://localhost:${port}`,
							...procs.map((p, i) => `worker ${i}: pid ${p.pid}`),
							...adminHint
						].join('\n')
					)
					for (const line of held) process.stdout.write(line)
					held = undefined
				}
			}
			print(text.replace(/^(?=.)/gm, `[worker ${index}] `))
		}
	})()
	void proc.exited.then((code) => {
		if (stopping) return
		// A worker that dies is replaced; the others keep serving meanwhile.
		console.error(`[worker ${index}] exited with ${code}; restarting it`)
		setTimeout(() => start(index), 500)
	})
}

for (let i = 0; i < workers; i++) start(i)

async function stop(): Promise<void> {
	stopping = true
	for (const proc of procs) proc.kill('SIGTERM')
	// Each worker drains its own streams; one that takes longer than the grace period is killed.
	const grace = setTimeout(() => procs.forEach((p) => p.kill('SIGKILL')), Number(process.env.STOP_GRACE_MS ?? 10_000))
	await Promise.all(procs.map((p) => p.exited))
	clearTimeout(grace)
	process.exit(0)
}
process.once('SIGINT', stop)
process.once('SIGTERM', stop)
