import { RedisClient } from 'bun'
import { existsSync } from 'node:fs'

/** True when CI demands that tests needing Redis or Chromium run, not skip. */
export const servicesRequired = process.env.REQUIRE_SERVICES === '1'

/** The Redis URL tests use. */
export const redisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379'

/** True when a Redis server answers PING at `url` within a second. */
export async function redisAnswers(url = redisUrl): Promise<boolean> {
	const client = new RedisClient(url, { connectionTimeout: 1000, autoReconnect: false })
	try {
		return (await Promise.race([client.ping(), Bun.sleep(1000).then(() => '')])) === 'PONG'
	} catch {
		return false
	} finally {
		client.close()
	}
}

/** Path of a Chromium binary, if one is installed. */
export function chromiumPath(): string | undefined {
	for (const p of [process.env.CHROMIUM_PATH, '/usr/bin/chromium', '/usr/bin/chromium-browser'])
		if (p && existsSync(p)) return p
	return undefined
}

/**
 * Decides whether tests that need `service` run. Missing and not required: the
 * tests skip, with a message saying why. Missing and required (CI): it throws.
 */
export function needService(service: string, available: boolean): { skip: boolean } {
	if (available) return { skip: false }
	const message = `${service} is not available; its tests are skipped (set REQUIRE_SERVICES=1 to fail instead)`
	if (servicesRequired) throw new Error(`REQUIRE_SERVICES=1 but ${service} is not available`)
	console.warn(`[skip] ${message}`)
	return { skip: true }
}
