// CPU burners: busy loops in processes of their own, the way a loaded host or a noisy
// neighbour keeps every core busy. Each ends by itself after `maxSeconds` even if the
// benchmark dies; stop() ends them at once.
import { availableParallelism } from 'node:os'

/** Starts `count` busy loops (default: one per core). */
export function startBurners(count = availableParallelism(), maxSeconds = 120): { stop(): Promise<void> } {
	const loop = `const end = Date.now() + ${Math.round(maxSeconds * 1000)}; while (Date.now() < end) {}`
	const procs = Array.from({ length: count }, () => Bun.spawn(['bun', '-e', loop], { stdout: 'ignore', stderr: 'inherit' }))
	return {
		stop: async () => {
			for (const p of procs) p.kill('SIGKILL')
			await Promise.all(procs.map((p) => p.exited))
		}
	}
}
