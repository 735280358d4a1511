import { openEmbeddedStorage } from './embedded.js'
import { openHttpStorage } from './http.js'
import type { Storage } from './storage.js'
import type { StorageConfig } from './storageConfig.js'

/** The one place that chooses the transport; everything after it sees only `Storage`. */
export async function openStorage(config: StorageConfig): Promise<Storage> {
  switch (config.kind) {
    case 'http':
      return openHttpStorage(config)
    case 'embedded':
      return openEmbeddedStorage(config)
  }
}
