import { lstat, readdir, rm } from 'node:fs/promises'
import { join } from 'node:path'

// Temporary upload files are hidden (never served: file() refuses dotfiles) and
// carry the writer's pid, so a later process can tell a dead writer's leftovers
// from an upload in progress: `.upload-<pid>-<uuid>`.
const TEMP = /^\.upload-(\d+)-[0-9a-f-]{36}$/
// Names from before the pid was part of them.
const OLD_TEMP = /^\.upload-[0-9a-f-]{36}$/

/** A new temporary file name for an upload of this process. */
export const uploadTempName = () => `.upload-${process.pid}-${crypto.randomUUID()}`

function alive(pid: number): boolean {
	if (pid === process.pid) return true
	try {
		process.kill(pid, 0)
		return true
	} catch (error) {
		// EPERM: it exists, owned by someone else.
		return (error as NodeJS.ErrnoException).code === 'EPERM'
	}
}

/**
 * Removes what uploads of processes that died mid-way (killed, crashed) left
 * in `root`: temporary files whose writing process is gone and that were last
 * written before this process started. An upload in progress in another live
 * process sharing the folder is left alone. Returns the names removed.
 * saveUpload runs it once per root by itself; call it at start to clean up
 * before the first upload.
 */
export async function cleanUploads(root: string): Promise<string[]> {
	let names: string[]
	try {
		names = await readdir(root)
	} catch (error) {
		if ((error as NodeJS.ErrnoException).code === 'ENOENT') return []
		throw error
	}
	const removed: string[] = []
	for (const name of names) {
		const m = TEMP.exec(name)
		if (!(m ? !alive(Number(m[1])) : OLD_TEMP.test(name))) continue
		const path = join(root, name)
		const stats = await lstat(path).catch(() => undefined)
		if (!stats?.isFile() || stats.mtimeMs >= performance.timeOrigin) continue
		await rm(path, { force: true })
		removed.push(name)
	}
	return removed
}

const cleaned = new Map<string, Promise<void>>()

/** cleanUploads(root), once per root in this process; a failure is reported, not thrown. */
export function cleanUploadsOnce(root: string, report: (error: unknown) => void): Promise<void> {
	let done = cleaned.get(root)
	if (!done) {
		done = cleanUploads(root).then(
			() => {},
			(error) => report(error)
		)
		cleaned.set(root, done)
	}
	return done
}
