import { parentPort } from 'node:worker_threads'
import { createChainCheck, type ChainCheck } from './chainCheck.js'
import { chainRowsOfPage } from './chainPages.js'
import { digestStoredEvents } from './eventDigests.js'
import { decodeDigests, type WorkerRequest, type WorkerResponse } from './workerProtocol.js'

/**
 * A verification worker thread: digests pages of stored events, and runs the chain checks opened
 * on it (each chain's pages arrive in order, on the worker that opened it). Pure work: no storage.
 */
const port = parentPort
if (port === null) throw new Error('verifyWorker.js runs as a worker thread (see workerPool.ts)')

const sessions = new Map<number, { check: ChainCheck; tenant: string; chain: string }>()

const asBuffer = (bytes: Uint8Array) => Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)

port.on('message', (request: WorkerRequest) => {
  let response: WorkerResponse
  try {
    response = handle(request)
  } catch (error) {
    response = {
      id: request.id,
      ok: false,
      error: error instanceof Error ? error.message : String(error),
      ...(error instanceof Error && error.stack !== undefined && { stack: error.stack }),
    }
  }
  port.postMessage(response)
})

function handle(request: WorkerRequest): WorkerResponse {
  switch (request.kind) {
    case 'digest':
      return { id: request.id, ok: true, digests: digestStoredEvents(asBuffer(request.bytes)) }
    case 'open': {
      const { plan } = request.init
      sessions.set(request.session, {
        check: createChainCheck(request.init),
        tenant: plan.tenant,
        chain: plan.chain,
      })
      return { id: request.id, ok: true }
    }
    case 'page': {
      const session = sessionOf(request.session)
      const rows = chainRowsOfPage(asBuffer(request.bytes), session.tenant, session.chain)
      session.check.add(rows, decodeDigests(request.digests))
      return { id: request.id, ok: true }
    }
    case 'finish': {
      const session = sessionOf(request.session)
      sessions.delete(request.session)
      return { id: request.id, ok: true, verification: session.check.finish() }
    }
  }
}

function sessionOf(id: number) {
  const session = sessions.get(id)
  if (session === undefined) throw new Error(`no chain check ${id} is open on this worker`)
  return session
}
