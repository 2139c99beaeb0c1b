import { afterEach } from 'bun:test'
import type { AnyElysia } from 'elysia'

/** A running test server on 127.0.0.1 and a free port. */
export interface TestServer {
	port: number
	url: string
	stop(): Promise<void>
}

/** Starts an Elysia app on port 0 (a free port) on loopback. */
export function listen(app: AnyElysia): TestServer {
	app.listen({ port: 0, hostname: '127.0.0.1' })
	const port = app.server!.port as number
	return {
		port,
		url: `http://127.0.0.1:${port}`,
		stop: async () => {
			await app.stop(true)
		}
	}
}

/** Resolves when `predicate` holds, polling every 5 ms; rejects after `ms`. */
export async function until(predicate: () => boolean | Promise<boolean>, ms = 2000, what = 'condition'): Promise<void> {
	const end = performance.now() + ms
	while (!(await predicate())) {
		if (performance.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what}`)
		await Bun.sleep(5)
	}
}

/**
 * For one test file: returns `start(app)`, which listens like listen(), and
 * stops every app it started after each test.
 */
export function startEach(): (app: AnyElysia) => TestServer {
	const running: TestServer[] = []
	afterEach(async () => {
		for (const s of running.splice(0)) await s.stop()
	})
	return (app) => {
		const server = listen(app)
		running.push(server)
		return server
	}
}
