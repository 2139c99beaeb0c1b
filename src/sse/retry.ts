import { OptionError } from '../errors'

/**
 * A `retry:` hint spread over `ms` .. `ms * (1 + jitter)`: clients told to come
 * back together (a drain, a cut-off) then do not all return in the same millisecond.
 */
export function jitteredRetry(ms: number, jitter: number): number {
	if (!(jitter >= 0)) throw new OptionError(`retry jitter must be a non-negative number (got ${jitter})`)
	return Math.round(ms * (1 + Math.random() * jitter))
}
