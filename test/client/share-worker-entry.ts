// The SharedWorker of test/client/share.test.ts: sluice/client's shareWorker(), as an app serves it.
import { shareWorker } from '../../src/client'

shareWorker()
