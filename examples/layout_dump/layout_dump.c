/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ivsh-layout-dump: print the layout v1 state of an ivshmem device's
 * shared memory (header, peers, channels) without attaching to it.
 *
 *   ivsh-layout-dump 'shm:/dev/shm/net0'
 */
#include <getopt.h>
#include <stdio.h>

#include "ivsh_dev.h"
#include "ivsh_layout.h"

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct ivsh_dev *dev;
	int c;

	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		printf("usage: ivsh-layout-dump DEVICE\n"
		       "  e.g. ivsh-layout-dump shm:/dev/shm/net0\n");
		return c == 'h' ? 0 : 1;
	}
	if (optind != argc - 1) {
		fprintf(stderr, "ivsh-layout-dump: expected one DEVICE argument\n");
		return 1;
	}
	if (ivsh_dev_open(&dev, argv[optind], NULL) < 0) {
		fprintf(stderr, "ivsh-layout-dump: %s\n", ivsh_dev_last_error());
		return 1;
	}
	int rc = ivsh_layout_describe(ivsh_dev_shm(dev), ivsh_dev_shm_size(dev),
				      stdout);
	ivsh_dev_close(dev);
	return rc == 0 ? 0 : 1;
}
