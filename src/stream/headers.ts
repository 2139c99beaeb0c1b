/** Headers every stream carries, so proxies neither buffer nor transform it. */
export const streamingHeaders = {
	'cache-control': 'no-cache, no-transform',
	'x-accel-buffering': 'no'
} as const
