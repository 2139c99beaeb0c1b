/**
 * Reads a child process's output until `pattern` matches what has come so far, and returns that
 * text; throws if the child exits first (a server that failed to start must not hang its test).
 */
export async function outputUntil(stdout: ReadableStream<Uint8Array>, pattern: RegExp): Promise<string> {
	const reader = stdout.getReader()
	const decoder = new TextDecoder()
	let out = ''
	try {
		while (!pattern.test(out)) {
			const { value, done } = await reader.read()
			if (done) throw new Error(`the child exited before printing ${pattern}: ${out}`)
			out += decoder.decode(value, { stream: true })
		}
		return out
	} finally {
		reader.releaseLock()
	}
}
