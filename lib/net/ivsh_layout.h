/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Shared-memory layout v1 (doc/layout-v1.md): sizes, validation and
 * inspection, for ports and for tools that look at a region.
 *
 * Functions returning int return 0 on success and a negative errno on
 * failure.
 */
#ifndef IVSH_LAYOUT_H
#define IVSH_LAYOUT_H

#include <stdint.h>
#include <stdio.h>

#ifdef __cplusplus
extern "C" {
#endif

#define IVSH_LAYOUT_MAGIC 0x48535649u /**< bytes "IVSH" */
#define IVSH_LAYOUT_VERSION 1
#define IVSH_LAYOUT_HEADER_SIZE 256u
#define IVSH_LAYOUT_PEER_SIZE 64u

/** Header state values. */
enum ivsh_layout_state {
	IVSH_LAYOUT_UNINIT = 0,
	IVSH_LAYOUT_INITIALIZING = 1,
	IVSH_LAYOUT_READY = 2,
};

/** Parameter limits (inclusive). */
#define IVSH_LAYOUT_MIN_PEERS 2
#define IVSH_LAYOUT_MAX_PEERS 256
#define IVSH_LAYOUT_MAX_QUEUES 64
#define IVSH_LAYOUT_MIN_RING 16u
#define IVSH_LAYOUT_MAX_RING 65536u
#define IVSH_LAYOUT_MIN_SLOT 64u
#define IVSH_LAYOUT_MAX_SLOT 65536u

/** The parameters that define a layout. */
struct ivsh_layout_params {
	uint16_t max_peers;
	uint16_t queues_per_link;
	uint32_t ring_size;
	uint32_t slot_size;
};

/** A validated copy of a layout header plus derived values. */
struct ivsh_layout_info {
	struct ivsh_layout_params p;
	uint32_t version;
	uint32_t state;       /**< enum ivsh_layout_state */
	uint32_t epoch;       /**< layout generation */
	uint32_t features;
	uint64_t region_size; /**< as recorded by the master */
	uint64_t layout_size; /**< bytes used */
	uint64_t peers_off;
	uint64_t channels_off;
	uint64_t channel_size;
	uint64_t slots_off;   /**< inside a channel */
	uint32_t nb_channels;
	uint64_t identity;    /**< written once by the master when it
			       *   initialises the region: random, non-zero;
			       *   0 on a region of an older master */
};

/**
 * Check parameters against the limits above.
 * @return 0; -EINVAL (with a reason in @p why if not NULL).
 */
int ivsh_layout_params_check(const struct ivsh_layout_params *p,
			     const char **why);

/**
 * Fill @p info with the derived sizes of a layout with parameters @p p
 * (header fields state/epoch/region_size are left 0).
 * @return 0; -EINVAL bad parameters.
 */
int ivsh_layout_compute(const struct ivsh_layout_params *p,
			struct ivsh_layout_info *info);

/** Bytes a layout with parameters @p p needs; 0 if they are invalid. */
uint64_t ivsh_layout_size(const struct ivsh_layout_params *p);

/**
 * Read and validate the header of the region @p shm of @p size bytes.
 * @return 0 ready and valid;
 *         -EAGAIN not initialised yet (zero magic) or being initialised;
 *         -EPROTO unknown magic or version, or an invalid field (the
 *          reason is in @p why if not NULL);
 *         -EINVAL region too small to hold a header.
 */
int ivsh_layout_read_info(const void *shm, uint64_t size,
			  struct ivsh_layout_info *info, const char **why);

/** Offset of channel (src -> dst, queue q) in a layout; 0 if invalid. */
uint64_t ivsh_layout_channel_off(const struct ivsh_layout_info *info,
				 uint16_t src, uint16_t dst, uint16_t q);

/**
 * Print a human-readable description of the region to @p out: the
 * header, every peer entry and, for every channel, prod, cons, fill level
 * and kick. Only reads the region.
 * @return 0; -EAGAIN / -EPROTO / -EINVAL as ivsh_layout_read_info() (the
 *         header is still printed as far as it could be read).
 */
int ivsh_layout_describe(const void *shm, uint64_t size, FILE *out);

#ifdef __cplusplus
}
#endif

#endif /* IVSH_LAYOUT_H */
