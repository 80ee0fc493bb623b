/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * net_ivshmem devargs: "key=value" pairs after the device name, e.g.
 *   --vdev net_ivshmem0,server=/run/ivshmem.sock,peer=1,queues=2
 *   -a 0000:00:04.0,peer=1
 * Every value is checked; a bad one is logged on one line and the probe
 * fails with -EINVAL.
 */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include <rte_kvargs.h>
#include <rte_malloc.h>

#include "ivshmem_ethdev.h"

#define ARG_SERVER "server"
#define ARG_SHM "shm"
#define ARG_PEER "peer"
#define ARG_QUEUES "queues"
#define ARG_ID "id"
#define ARG_SIZE "size"
#define ARG_INTR "intr"
#define ARG_RING_SIZE "ring_size"
#define ARG_SLOT_SIZE "slot_size"
#define ARG_MAC "mac"
#define ARG_TIMEOUT "timeout"
#define ARG_VECTORS "vectors"
#define ARG_RX_ZC "rx_zero_copy"

static const char *const vdev_keys[] = {
	ARG_SERVER, ARG_SHM, ARG_PEER, ARG_QUEUES, ARG_ID, ARG_SIZE,
	ARG_INTR, ARG_RING_SIZE, ARG_SLOT_SIZE, ARG_MAC, ARG_TIMEOUT, ARG_RX_ZC,
	NULL,
};

/* The PCI function is the device: no path or size to give. id= is for
 * ivshmem-plain, whose IVPosition is always 0; vectors= uses fewer MSI-X
 * vectors than the device has. */
static const char *const pci_keys[] = {
	ARG_PEER, ARG_QUEUES, ARG_ID, ARG_INTR, ARG_RING_SIZE, ARG_SLOT_SIZE,
	ARG_MAC, ARG_TIMEOUT, ARG_VECTORS, ARG_RX_ZC, NULL,
};

/* Decimal (or 0x hex) unsigned integer, whole string, within [min, max]. */
static int parse_uint(const char *key, const char *value, uint64_t min,
		      uint64_t max, uint64_t *out)
{
	char *end;
	unsigned long long v;

	if (value == NULL || *value == '\0' || *value == '-') {
		IVSHMEM_LOG(ERR, "%s: needs a number", key);
		return -EINVAL;
	}
	errno = 0;
	v = strtoull(value, &end, 0);
	if (errno != 0 || *end != '\0' || v < min || v > max) {
		IVSHMEM_LOG(ERR, "%s=%s: expected a number in %" PRIu64
			    "..%" PRIu64, key, value, min, max);
		return -EINVAL;
	}
	*out = v;
	return 0;
}

/* "4096", "64k", "2M", "1G" (binary multiples) -> bytes. */
static int parse_size(const char *key, const char *value, uint64_t *out)
{
	char *end;
	unsigned long long v;
	unsigned int shift = 0;

	if (value == NULL || *value == '\0' || *value == '-') {
		IVSHMEM_LOG(ERR, "%s: needs a size", key);
		return -EINVAL;
	}
	errno = 0;
	v = strtoull(value, &end, 0);
	if (errno == 0 && end[0] != '\0' && end[1] == '\0') {
		switch (end[0]) {
		case 'k': case 'K': shift = 10; end++; break;
		case 'm': case 'M': shift = 20; end++; break;
		case 'g': case 'G': shift = 30; end++; break;
		default: break;
		}
	}
	if (errno != 0 || *end != '\0' || v == 0 || v > (UINT64_MAX >> shift)) {
		IVSHMEM_LOG(ERR, "%s=%s: expected a size in bytes (k/M/G suffix allowed)",
			    key, value);
		return -EINVAL;
	}
	*out = (uint64_t)v << shift;
	return 0;
}

static int parse_path(const char *key, const char *value, char **out)
{
	if (*out != NULL) {
		IVSHMEM_LOG(ERR, "%s given twice", key);
		return -EINVAL;
	}
	if (value == NULL || value[0] != '/') {
		IVSHMEM_LOG(ERR, "%s=%s: expected an absolute path", key,
			    value ? value : "");
		return -EINVAL;
	}
	*out = strdup(value);
	return *out ? 0 : -ENOMEM;
}

static int handle_arg(const char *key, const char *value, void *opaque)
{
	struct ivshmem_args *a = opaque;
	uint64_t v = 0;
	int ret;

	if (strcmp(key, ARG_SERVER) == 0)
		return parse_path(key, value, &a->server);
	if (strcmp(key, ARG_SHM) == 0)
		return parse_path(key, value, &a->shm);
	if (strcmp(key, ARG_PEER) == 0) {
		a->has_peer = true;
		/* auto: the only other peer, found (and waited for) at probe */
		if (strcmp(value, "auto") == 0) {
			a->peer = IVSH_PORT_PEER_AUTO;
			return 0;
		}
		char *end;

		errno = 0;
		v = value ? strtoull(value, &end, 10) : 0;
		if (value == NULL || *value == '\0' || *value == '-' ||
		    errno != 0 || *end != '\0' || v >= IVSH_PORT_PEER_AUTO) {
			IVSHMEM_LOG(ERR, "peer=%s: expected auto or a number in 0..%u",
				    value ? value : "", IVSH_PORT_PEER_AUTO - 1);
			return -EINVAL;
		}
		a->peer = (uint16_t)v;
		return 0;
	}
	if (strcmp(key, ARG_QUEUES) == 0) {
		ret = parse_uint(key, value, 1, IVSHMEM_MAX_QUEUES, &v);
		a->queues = (uint16_t)v;
		return ret;
	}
	if (strcmp(key, ARG_ID) == 0) {
		ret = parse_uint(key, value, 0, UINT16_MAX, &v);
		a->id = (uint16_t)v;
		a->has_id = true;
		return ret;
	}
	if (strcmp(key, ARG_SIZE) == 0) {
		ret = parse_size(key, value, &v);
		if (ret == 0 && (v & (v - 1)) != 0) {
			IVSHMEM_LOG(ERR, "size=%s: must be a power of two", value);
			return -EINVAL;
		}
		a->size = v;
		return ret;
	}
	if (strcmp(key, ARG_INTR) == 0) {
		ret = parse_uint(key, value, 0, 1, &v);
		a->intr = v != 0;
		return ret;
	}
	if (strcmp(key, ARG_RX_ZC) == 0) {
		ret = parse_uint(key, value, 0, 1, &v);
		a->rx_zero_copy = v != 0;
		return ret;
	}
	if (strcmp(key, ARG_RING_SIZE) == 0) {
		ret = parse_uint(key, value, 2, 1u << 20, &v);
		if (ret == 0 && (v & (v - 1)) != 0) {
			IVSHMEM_LOG(ERR, "ring_size=%s: must be a power of two", value);
			return -EINVAL;
		}
		a->ring_size = (uint32_t)v;
		return ret;
	}
	if (strcmp(key, ARG_SLOT_SIZE) == 0) {
		ret = parse_uint(key, value, 64, 65536, &v);
		if (ret == 0 && v % 64 != 0) {
			IVSHMEM_LOG(ERR, "slot_size=%s: must be a multiple of 64", value);
			return -EINVAL;
		}
		a->slot_size = (uint32_t)v;
		return ret;
	}
	if (strcmp(key, ARG_MAC) == 0) {
		if (value == NULL || rte_ether_unformat_addr(value, &a->mac) != 0) {
			IVSHMEM_LOG(ERR, "mac=%s: expected xx:xx:xx:xx:xx:xx",
				    value ? value : "");
			return -EINVAL;
		}
		if (!rte_is_unicast_ether_addr(&a->mac)) {
			IVSHMEM_LOG(ERR, "mac=%s: not a unicast address", value);
			return -EINVAL;
		}
		a->has_mac = true;
		return 0;
	}
	if (strcmp(key, ARG_TIMEOUT) == 0) {
		ret = parse_uint(key, value, 1, 600000, &v);
		a->timeout_ms = (int)v;
		return ret;
	}
	if (strcmp(key, ARG_VECTORS) == 0) {
		ret = parse_uint(key, value, 1, IVSHMEM_MAX_VECTORS, &v);
		a->vectors = (uint16_t)v;
		return ret;
	}
	IVSHMEM_LOG(ERR, "unknown devarg %s", key);
	return -EINVAL;
}

void ivshmem_free_args(struct ivshmem_args *args)
{
	free(args->server);
	free(args->shm);
	args->server = NULL;
	args->shm = NULL;
}

int ivshmem_parse_args(const char *params, enum ivshmem_kind kind,
		       struct ivshmem_args *args)
{
	const char *const *keys = kind == IVSHMEM_KIND_VDEV ? vdev_keys : pci_keys;
	struct rte_kvargs *kv;
	unsigned int i;
	int ret = 0;

	memset(args, 0, sizeof(*args));
	if (params != NULL && params[0] != '\0') {
		kv = rte_kvargs_parse(params, keys);
		if (kv == NULL) {
			IVSHMEM_LOG(ERR, "cannot parse devargs \"%s\" (known keys:%s)",
				    params, kind == IVSHMEM_KIND_VDEV ?
				    " server shm peer queues id size intr ring_size slot_size mac timeout rx_zero_copy" :
				    " peer queues id intr ring_size slot_size mac timeout vectors rx_zero_copy");
			return -EINVAL;
		}
		for (i = 0; ret == 0 && keys[i] != NULL; i++) {
			if (rte_kvargs_count(kv, keys[i]) > 1) {
				IVSHMEM_LOG(ERR, "%s given more than once", keys[i]);
				ret = -EINVAL;
				break;
			}
			if (rte_kvargs_count(kv, keys[i]) == 1)
				ret = rte_kvargs_process(kv, keys[i], handle_arg, args);
		}
		rte_kvargs_free(kv);
		if (ret != 0) {
			ivshmem_free_args(args);
			return ret < 0 ? ret : -EINVAL;
		}
	}

	if (kind == IVSHMEM_KIND_VDEV) {
		if ((args->server == NULL) == (args->shm == NULL)) {
			IVSHMEM_LOG(ERR, "give exactly one of server=PATH or shm=PATH");
			ret = -EINVAL;
		} else if (args->server != NULL && (args->has_id || args->size)) {
			IVSHMEM_LOG(ERR, "id= and size= are for shm= only (the server assigns the ID and the size)");
			ret = -EINVAL;
		} else if (args->shm != NULL && !args->has_id) {
			IVSHMEM_LOG(ERR, "shm= needs id=N (this peer's ID; the master is 0)");
			ret = -EINVAL;
		} else if (args->shm != NULL && args->intr) {
			IVSHMEM_LOG(ERR, "intr=1 needs server= (plain shared memory has no interrupts)");
			ret = -EINVAL;
		} else if (args->has_id && args->has_peer &&
			   args->peer != IVSH_PORT_PEER_AUTO && args->id == args->peer) {
			IVSHMEM_LOG(ERR, "peer=%u is this peer's own id", args->peer);
			ret = -EINVAL;
		}
	}
	if (ret != 0)
		ivshmem_free_args(args);
	return ret;
}
