// CRC-32C (Castagnoli, polynomial 0x1EDC6F41, reflected 0x82F63B78).
// osm_crc32c_extend continues a running CRC: pass 0 to start.
#ifndef OSM_CRC32C_H
#define OSM_CRC32C_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

uint32_t osm_crc32c_extend(uint32_t crc, const void *data, size_t length);

/// The portable implementation, exposed so tests can check it against the hardware one.
uint32_t osm_crc32c_extend_software(uint32_t crc, const void *data, size_t length);

/// 1 when the SSE4.2 instruction is used.
int osm_crc32c_is_hardware(void);

#ifdef __cplusplus
}
#endif

#endif
