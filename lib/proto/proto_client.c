/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Client-side interpretation of the server's messages: a small state
 * machine that checks order, ranges and descriptor presence.
 */
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "ivsh_proto.h"

enum client_stage {
	STAGE_VERSION = 0, /* expecting the protocol version */
	STAGE_ID,          /* expecting our own ID */
	STAGE_SHM,         /* expecting -1 with the shared-memory fd */
	STAGE_RUNNING,     /* peer and own vectors, disconnects */
};

void ivsh_proto_client_init(struct ivsh_proto_client *c)
{
	memset(c, 0, sizeof(*c));
	c->stage = STAGE_VERSION;
	c->own_id = -1;
}

bool ivsh_proto_client_has_shm(const struct ivsh_proto_client *c)
{
	return c->stage == STAGE_RUNNING;
}

static int reject(int fd, struct ivsh_proto_event *ev, int err)
{
	if (fd >= 0)
		close(fd);
	ev->type = IVSH_PROTO_EV_NONE;
	ev->fd = -1;
	return err;
}

static int feed_running(struct ivsh_proto_client *c, int64_t value, int fd,
			struct ivsh_proto_event *ev)
{
	uint16_t id;

	if (value == IVSH_PROTO_SHM_MARKER)
		return reject(fd, ev, -EPROTO); /* a second shared memory */
	if (value < 0 || value > IVSH_PROTO_MAX_ID)
		return reject(fd, ev, -ERANGE);
	id = (uint16_t)value;
	ev->peer = id;

	if (value == c->own_id) {
		/* Own ID: interrupt setup; without an fd it would mean our
		 * own disconnect, which makes no sense. */
		if (fd < 0 || c->own_vectors >= IVSH_PROTO_MAX_VECTORS)
			return reject(fd, ev, -EPROTO);
		ev->type = IVSH_PROTO_EV_OWN_VECTOR;
		ev->vector = c->own_vectors++;
		ev->fd = fd;
		return 0;
	}
	if (fd < 0) {
		/* Disconnect: a later connect starts again at vector 0. */
		c->peer_vectors[id] = 0;
		ev->type = IVSH_PROTO_EV_PEER_GONE;
		return 0;
	}
	if (c->peer_vectors[id] >= IVSH_PROTO_MAX_VECTORS)
		return reject(fd, ev, -EPROTO);
	ev->type = IVSH_PROTO_EV_PEER_VECTOR;
	ev->vector = c->peer_vectors[id]++;
	ev->fd = fd;
	return 0;
}

int ivsh_proto_client_feed(struct ivsh_proto_client *c, int64_t value,
			   int fd, struct ivsh_proto_event *ev)
{
	ev->type = IVSH_PROTO_EV_NONE;
	ev->peer = 0;
	ev->vector = 0;
	ev->fd = -1;

	switch (c->stage) {
	case STAGE_VERSION:
		if (value != IVSH_PROTO_VERSION)
			return reject(fd, ev, -EPROTONOSUPPORT);
		if (fd >= 0)
			return reject(fd, ev, -EPROTO);
		c->stage = STAGE_ID;
		return 0;
	case STAGE_ID:
		if (value < 0 || value > IVSH_PROTO_MAX_ID)
			return reject(fd, ev, -ERANGE);
		if (fd >= 0)
			return reject(fd, ev, -EPROTO);
		c->own_id = (int32_t)value;
		c->stage = STAGE_SHM;
		ev->type = IVSH_PROTO_EV_ID;
		ev->peer = (uint16_t)value;
		return 0;
	case STAGE_SHM:
		if (value != IVSH_PROTO_SHM_MARKER || fd < 0)
			return reject(fd, ev, -EPROTO);
		c->stage = STAGE_RUNNING;
		ev->type = IVSH_PROTO_EV_SHM;
		ev->peer = (uint16_t)c->own_id;
		ev->fd = fd;
		return 0;
	case STAGE_RUNNING:
		return feed_running(c, value, fd, ev);
	default:
		return reject(fd, ev, -EPROTO);
	}
}
