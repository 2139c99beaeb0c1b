import type { Subprocess } from 'bun'
import { RedisClient } from 'bun'
import { freePort } from './example'

/** A redis-server of a test's own, on a spare loopback port, that it may stop and start. */
export interface OwnRedis {
	port: number
	url: string
	/** Kills the server (SIGKILL: it goes away as a crash would) and waits for it to exit. */
	stop(): Promise<void>
	/** Starts it again on the same port, empty (no persistence), and waits until it answers. */
	start(): Promise<void>
	/** SIGSTOP: the server hangs with its sockets open, as a stuck server or a silent network would. */
	freeze(): void
	/** SIGCONT: it answers again. */
	thaw(): void
}

/** True when a `redis-server` binary is on PATH. */
export const redisServerInstalled = !!Bun.which('redis-server')

/** Starts `redis-server --port <spare> --bind 127.0.0.1 --save '' --appendonly no`. */
export async function startOwnRedis(): Promise<OwnRedis> {
	const port = freePort()
	const url = `redis://127.0.0.1:${port}`
	let proc: Subprocess | undefined
	const start = async () => {
		proc = Bun.spawn(
			['redis-server', '--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
			{ stdout: 'ignore', stderr: 'ignore' }
		)
		const end = performance.now() + 5000
		for (;;) {
			const client = new RedisClient(url, { autoReconnect: false, connectionTimeout: 500 })
			try {
				if ((await client.ping()) === 'PONG') return
			} catch {
			} finally {
				client.close()
			}
			if (performance.now() > end) throw new Error(`redis-server on port ${port} did not answer`)
			await Bun.sleep(20)
		}
	}
	await start()
	return {
		port,
		url,
		start,
		freeze: () => proc?.kill('SIGSTOP'),
		thaw: () => proc?.kill('SIGCONT'),
		stop: async () => {
			proc?.kill('SIGCONT')
			proc?.kill('SIGKILL')
			await proc?.exited
		}
	}
}

/** A key prefix of this run's own, so parallel runs on one Redis do not collide. */
export function uniquePrefix(name = 'test'): string {
	return `sluice-test:${name}:${process.pid}:${crypto.randomUUID().slice(0, 8)}`
}

/** Deletes the keys this process's test prefixes left in the Redis at `url`. */
export async function dropTestKeys(url: string): Promise<void> {
	const client = new RedisClient(url, { autoReconnect: false })
	try {
		let cursor = '0'
		do {
			const [next, keys] = await client.send('SCAN', [cursor, 'MATCH', `sluice-test:*:${process.pid}:*`, 'COUNT', '1000'])
			if (keys.length) await client.send('DEL', keys)
			cursor = next
		} while (cursor !== '0')
	} finally {
		client.close()
	}
}
