/**
 * A benchmark's setting: `--name value` (or `--name=value`) on the command line,
 * else the environment variable `env`, else `fallback`. `bun run bench storm
 * --subscribers 2000` passes the flag through bench/run.ts.
 */
export function option(name: string, env: string, fallback: number): number {
	const text = textOption(name, env)
	return text === undefined ? fallback : checked(name, text)
}

/** A setting as text (e.g. a list), found like option(); undefined when not given. */
export function textOption(name: string, env: string): string | undefined {
	const args = process.argv.slice(2)
	for (let i = 0; i < args.length; i++) {
		const arg = args[i]!
		if (arg === `--${name}` && i + 1 < args.length) return args[i + 1]!
		if (arg.startsWith(`--${name}=`)) return arg.slice(name.length + 3)
	}
	const value = process.env[env]
	return value === undefined || value === '' ? undefined : value
}

function checked(name: string, text: string): number {
	const n = Number(text)
	if (!Number.isFinite(n) || n < 0) throw new RangeError(`${name} must be a non-negative number, got "${text}"`)
	return n
}
