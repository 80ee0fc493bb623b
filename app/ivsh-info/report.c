/* SPDX-License-Identifier: BSD-3-Clause */
/* The device report of ivsh-info. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "info.h"

static void report_registers(struct ivsh_dev *dev, bool read_status,
			     struct info_out *o)
{
	uint32_t pos = ivsh_dev_reg_read(dev, IVSH_REG_IVPOSITION);

	info_out_object(o, "registers");
	info_out_hex32(o, "IntrMask", ivsh_dev_reg_read(dev, IVSH_REG_INTR_MASK));
	/* Reading IntrStatus clears it: only on request. */
	if (read_status)
		info_out_hex32(o, "IntrStatus",
			       ivsh_dev_reg_read(dev, IVSH_REG_INTR_STATUS));
	else
		info_out_null(o, "IntrStatus",
			      "(not read: reading clears it; use --read-status)");
	if (o->json)
		info_out_int(o, "IVPosition", (int32_t)pos);
	else {
		char buf[48];

		snprintf(buf, sizeof(buf), "0x%08x (%d)", pos, (int32_t)pos);
		info_out_str(o, "IVPosition", buf);
	}
	info_out_null(o, "Doorbell", "(write-only)");
	info_out_close(o);
}

static void report_peers(struct ivsh_dev *dev, struct info_out *o)
{
	uint16_t *ids;
	int n = ivsh_dev_peers(dev, NULL, 0);

	if (n == -ENOTSUP) {
		info_out_null(o, "peers", "(unknown: this backend cannot tell)");
		return;
	}
	if (n < 0) {
		info_out_null(o, "peers", "(error)");
		return;
	}
	ids = calloc((size_t)n + 1, sizeof(*ids));
	if (ids == NULL) {
		info_out_null(o, "peers", "(out of memory)");
		return;
	}
	n = ivsh_dev_peers(dev, ids, (size_t)n);
	if (!o->json && n == 0) {
		info_out_str(o, "peers", "none");
		free(ids);
		return;
	}
	info_out_array(o, "peers");
	for (int i = 0; i < n; i++) {
		int v = ivsh_dev_peer_vectors(dev, ids[i]);

		if (o->json) {
			info_out_object(o, NULL);
			info_out_uint(o, "id", ids[i]);
			info_out_int(o, "vectors", v);
			info_out_close(o);
		} else {
			char buf[48];

			snprintf(buf, sizeof(buf), "%u (%d vector%s)", ids[i],
				 v, v == 1 ? "" : "s");
			info_out_str(o, NULL, buf);
		}
	}
	info_out_close(o);
	free(ids);
}

void info_report(struct ivsh_dev *dev, const char *name, bool read_status,
		 struct info_out *o)
{
	info_out_str(o, "device", name);
	info_out_str(o, "backend", ivsh_dev_backend(dev));
	info_out_uint(o, "id", ivsh_dev_id(dev));
	info_out_uint(o, "shm_size", ivsh_dev_shm_size(dev));
	info_out_uint(o, "vectors", ivsh_dev_vectors(dev));
	info_out_str(o, "irq_mode", ivsh_dev_irq_mode_name(ivsh_dev_irq_mode(dev)));
	report_registers(dev, read_status, o);
	report_peers(dev, o);
}
