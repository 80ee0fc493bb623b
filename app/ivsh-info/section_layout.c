/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * --layout: the shared-memory layout v1 found in the region. Text mode
 * prints the full description (header, peers, every channel); JSON gives
 * the validated header. Only reads the region: safe on a live device.
 */
#include <errno.h>

#include "info.h"
#include "ivsh_layout.h"

static const char *state_name(uint32_t state)
{
	switch (state) {
	case IVSH_LAYOUT_UNINIT: return "uninit";
	case IVSH_LAYOUT_INITIALIZING: return "initializing";
	case IVSH_LAYOUT_READY: return "ready";
	default: return "invalid";
	}
}

static int print_json(const void *shm, uint64_t size, struct info_out *o)
{
	struct ivsh_layout_info li;
	const char *why = NULL;
	int rc = ivsh_layout_read_info(shm, size, &li, &why);

	info_out_object(o, "layout");
	if (rc < 0) {
		info_out_str(o, "status", rc == -EAGAIN ? "not initialised" : "invalid");
		if (why != NULL)
			info_out_str(o, "reason", why);
		info_out_close(o);
		return 0;
	}
	info_out_str(o, "status", state_name(li.state));
	info_out_uint(o, "version", li.version);
	info_out_uint(o, "epoch", li.epoch);
	info_out_uint(o, "features", li.features);
	info_out_uint(o, "max_peers", li.p.max_peers);
	info_out_uint(o, "queues_per_link", li.p.queues_per_link);
	info_out_uint(o, "ring_size", li.p.ring_size);
	info_out_uint(o, "slot_size", li.p.slot_size);
	info_out_uint(o, "region_size", li.region_size);
	info_out_uint(o, "layout_size", li.layout_size);
	info_out_uint(o, "channels", li.nb_channels);
	info_out_close(o);
	return 0;
}

static int print_layout(struct ivsh_dev *dev, struct info_out *o)
{
	const void *shm = ivsh_dev_shm(dev);
	uint64_t size = ivsh_dev_shm_size(dev);

	if (o->json)
		return print_json(shm, size, o);
	/* The description says itself when there is no valid layout. */
	fflush(o->f);
	(void)ivsh_layout_describe(shm, size, o->f);
	return 0;
}

const struct info_section info_section_layout = {
	"layout",
	"also describe the shared-memory layout v1 (header, peers, channels)",
	print_layout,
};
