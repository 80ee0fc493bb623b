/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * struct ivsh_dev: one ivshmem device, however it is reached.
 *
 * A device is named by a string, "BACKEND:ARGUMENT[,key=value...]":
 *
 *   vfio:0000:00:04.0        guest, device bound to vfio-pci
 *   uio:0000:00:04.0         guest, device bound to uio_pci_generic
 *   pci:0000:00:04.0         guest, backend chosen from the bound driver
 *   server:/run/ivshmem.sock host process as a peer of an ivshmem server
 *   shm:/dev/shm/NAME        plain shared memory file, no interrupts
 *
 * Keys after the argument override the matching ivsh_dev_opts fields:
 * id=N, vectors=N, size=BYTES (k/M/G/T suffixes), timeout=MS,
 * irq=auto|msix|intx|intx-poll|none.
 *
 * Registers follow the ivshmem spec exactly. On guest backends they are the
 * device's BAR0; on host backends (server:, shm:) they are emulated by a
 * register model with the same semantics, including the legacy INTx
 * behaviour (IntrStatus set by an incoming interrupt, read-to-clear, gated
 * by IntrMask) when the device is opened with irq=intx or irq=intx-poll.
 *
 * Functions returning int return 0 (or a count) on success and a negative
 * errno on failure. A device is used by one thread at a time, except that
 * ivsh_dev_doorbell() and the irq functions of distinct vectors may be
 * called concurrently.
 */
#ifndef IVSH_DEV_H
#define IVSH_DEV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/** PCI identity of the ivshmem device. */
#define IVSH_PCI_VENDOR_ID 0x1af4
#define IVSH_PCI_DEVICE_ID 0x1110

/** BAR0 register offsets (ivshmem spec, "PCI device registers"). */
enum ivsh_reg {
	IVSH_REG_INTR_MASK = 0,   /**< read/write, bit 0: peer interrupt */
	IVSH_REG_INTR_STATUS = 4, /**< read/write, bit 0; reading clears it */
	IVSH_REG_IVPOSITION = 8,  /**< read-only: own ID, -1 until ready */
	IVSH_REG_DOORBELL = 12,   /**< write-only: peer << 16 | vector */
};

/** Size of the register BAR. */
#define IVSH_BAR0_SIZE 256
/** Bit 0 of IntrMask and IntrStatus: a peer interrupt. */
#define IVSH_INTR_PEER 0x1u

/** The value to write to the Doorbell register to interrupt @p peer. */
static inline uint32_t ivsh_doorbell_value(uint16_t peer, uint16_t vector)
{
	return (uint32_t)peer << 16 | vector;
}

/** How the device delivers interrupts to this process. */
enum ivsh_irq_mode {
	IVSH_IRQ_AUTO = 0,  /**< MSI-X if the device has it, else INTx, else none */
	IVSH_IRQ_MSIX,      /**< one eventfd per vector */
	IVSH_IRQ_INTX,      /**< legacy pin: one interrupt for all vectors;
			     *   IntrStatus tells it fired, reading clears it */
	IVSH_IRQ_INTX_POLL, /**< IntrMask = 0, software busy-polls IntrStatus */
	IVSH_IRQ_NONE,      /**< no interrupts (ivshmem-plain, shm:) */
};

/** Options for ivsh_dev_open(); zero-initialise for defaults. */
struct ivsh_dev_opts {
	enum ivsh_irq_mode irq_mode; /**< default IVSH_IRQ_AUTO */
	unsigned int vectors;  /**< vectors to use; 0: backend default (server: 1,
				*   guest: all the device has) */
	int timeout_ms;        /**< handshake / IVPosition wait; 0: 5000 */
	int id;                /**< shm: this peer's ID (0..65535). Guest
				*   backends: the ID to use where IVPosition
				*   is 0 (ivshmem-plain), when id > 0 or
				*   id_set; else they learn it */
	bool id_set;           /**< id was given explicitly, even as 0 (the
				*   id= key sets it) */
	uint64_t size;         /**< shm: size to create the file with when it
				*   does not exist (power of two); 0: must exist */
};

struct ivsh_dev;

/**
 * Open a device by name.
 *
 * @param devp out: the device
 * @param name device string (see the top of this header)
 * @param opts options, or NULL for defaults; keys in @p name override them
 * @return 0 on success;
 *         -EINVAL bad name, unknown backend or key, bad value;
 *         -ENOENT device, socket or file not found;
 *         -ENODEV device not bound to a usable driver (message says which
 *          command binds it);
 *         -ETIMEDOUT IVPosition stayed negative / handshake incomplete;
 *         -EPROTO / -EPROTONOSUPPORT the server broke the protocol;
 *         -ECONNREFUSED nobody listens on the server socket;
 *         -ECONNRESET the server closed the connection mid-handshake;
 *         -ENAMETOOLONG socket path too long for a UNIX socket;
 *         -ENOSPC (server:, shm:) more than 256 shared-memory files that
 *          can shrink are mapped in this process (see "Lost shared
 *          memory" below);
 *         -ENOMEM, or another -errno from the system.
 *         A one-line reason is available from ivsh_dev_last_error().
 */
int ivsh_dev_open(struct ivsh_dev **devp, const char *name,
		  const struct ivsh_dev_opts *opts);

/**
 * A device whose BARs and interrupts are already set up by someone else,
 * such as DPDK's PCI bus: what ivsh_dev_open_mapped() is given.
 */
struct ivsh_dev_mapped {
	volatile void *regs;    /**< BAR0 mapping, at least IVSH_BAR0_SIZE bytes */
	void *shm;              /**< BAR2 mapping */
	uint64_t shm_size;      /**< BAR2 size in bytes */
	const int *irq_fds;     /**< one eventfd per MSI-X vector, in order;
				 *   not owned (never closed); NULL: none */
	unsigned int nb_irq_fds;/**< 0..64; 0 means no interrupts */
	const char *name;       /**< for messages, e.g. the PCI address */
};

/**
 * Wrap already-mapped BARs in a device. Registers are MMIO on @p m->regs.
 * Waits (opts->timeout_ms) for IVPosition to become non-negative; the ID
 * is IVPosition, or opts->id where IVPosition is 0 (ivshmem-plain).
 * Closing the device unmaps and closes nothing.
 * @return 0; -EINVAL a field of @p m is missing or out of range, or
 *         opts->id conflicts with a non-zero IVPosition; -ETIMEDOUT
 *         IVPosition stayed negative; -ERANGE IVPosition above 65535;
 *         -ENOMEM. The reason is in ivsh_dev_last_error().
 */
int ivsh_dev_open_mapped(struct ivsh_dev **devp,
			 const struct ivsh_dev_mapped *m,
			 const struct ivsh_dev_opts *opts);

/** Release every resource of the device (mappings, fds, irqs). NULL ok. */
void ivsh_dev_close(struct ivsh_dev *dev);

/**
 * A one-line description of why the last ivsh_dev_open() in this thread
 * failed ("" if it did not). Thread-local; valid until the next call.
 */
const char *ivsh_dev_last_error(void);

/** Backend name: "vfio", "uio", "server" or "shm". */
const char *ivsh_dev_backend(const struct ivsh_dev *dev);

/** This peer's ID (IVPosition once it became non-negative), 0..65535. */
uint16_t ivsh_dev_id(const struct ivsh_dev *dev);

/** The shared memory (BAR2), mapped read/write. */
void *ivsh_dev_shm(const struct ivsh_dev *dev);

/** Size of the shared memory in bytes. */
uint64_t ivsh_dev_shm_size(const struct ivsh_dev *dev);

/*
 * Lost shared memory (host backends). The memory of an ivsh-server run
 * with -M or -m, and a shm: file, cannot be sealed: any process that may
 * open the file can truncate it, and an access beyond the new end raises
 * SIGBUS. A server: device whose memory is unsealed (it has no
 * F_SEAL_SHRINK) and every shm: device therefore guard their mapping:
 *  - a process-wide SIGBUS handler is installed at the first such open;
 *    SIGBUS outside guarded mappings goes to the handler that was there
 *    before, or kills the process as usual;
 *  - on a fault inside the mapping, the whole mapping is replaced in
 *    place by private zero pages and the device is marked lost: the
 *    access is retried and reads zeros (a layout's magic reads 0), and
 *    nothing written from then on reaches the other peers;
 *  - ivsh_dev_check_shm() notices a shrunk file before any fault.
 * Registers, doorbells and interrupts keep working: the server and the
 * eventfds are not affected. A program that installs its own SIGBUS
 * handler after opening the device must chain to the previous one for
 * faults it does not know. Guest backends and mapped devices are never
 * lost this way (their memory is a PCI BAR).
 */

/**
 * Check whether the shared memory is still there: one fstat() on guarded
 * devices (see above), nothing on others. A file found shorter than the
 * mapping makes the device lost now, as a fault would.
 * @return 0 intact; -ENODEV lost: the file was truncated by another
 *         process (also on every later call).
 */
int ivsh_dev_check_shm(struct ivsh_dev *dev);

/**
 * Whether the shared memory was lost (a guarded fault, or
 * ivsh_dev_check_shm() returned -ENODEV). No system call: cheap enough
 * for a polling loop. Async-signal-safe.
 */
bool ivsh_dev_shm_lost(const struct ivsh_dev *dev);

/** Number of own interrupt vectors that are connected (0 if none). */
unsigned int ivsh_dev_vectors(const struct ivsh_dev *dev);

/** The interrupt mode in effect (never IVSH_IRQ_AUTO). */
enum ivsh_irq_mode ivsh_dev_irq_mode(const struct ivsh_dev *dev);

/**
 * Name of an interrupt mode as written in device strings: "auto", "msix",
 * "intx", "intx-poll" or "none" ("?" for an out-of-range value).
 */
const char *ivsh_dev_irq_mode_name(enum ivsh_irq_mode mode);

/** Read a register; the access has the register's spec side effects. */
uint32_t ivsh_dev_reg_read(struct ivsh_dev *dev, enum ivsh_reg reg);

/** Write a register; writes to read-only registers are ignored. */
void ivsh_dev_reg_write(struct ivsh_dev *dev, enum ivsh_reg reg,
			uint32_t value);

/**
 * Interrupt @p peer on @p vector (a Doorbell write).
 * @return 0 when the doorbell was rung;
 *         -ENODEV the device was removed (ivsh_dev_check_removed());
 *         -ENOTSUP the device has no interrupts (shm:, ivshmem-plain);
 *         -ENXIO (server: only, which knows its peers) the peer or vector
 *          is not connected, so the write would be ignored.
 */
int ivsh_dev_doorbell(struct ivsh_dev *dev, uint16_t peer, uint16_t vector);

/**
 * A descriptor that becomes readable (poll/epoll) when @p vector fires.
 * In INTx modes every vector shares one descriptor. After it fires, call
 * ivsh_dev_irq_ack() before waiting again.
 * @return the fd (owned by the device); -ENOTSUP no interrupts or
 *         IVSH_IRQ_INTX_POLL; -EINVAL vector out of range; -ENODEV the
 *         device was removed.
 */
int ivsh_dev_irq_fd(struct ivsh_dev *dev, unsigned int vector);

/**
 * Consume pending interrupts of @p vector and re-arm it: drains the
 * eventfd; in INTx mode also reads IntrStatus (clearing it) and unmasks
 * the line.
 * @return number of interrupts consumed (0 if none were pending);
 *         -ENOTSUP, -EINVAL, -ENODEV as for ivsh_dev_irq_fd().
 */
int ivsh_dev_irq_ack(struct ivsh_dev *dev, unsigned int vector);

/**
 * Wait for @p vector to fire, then acknowledge it. Also returns at once
 * when the device's removal is requested (ivsh_dev_removal_fd()).
 * In IVSH_IRQ_INTX_POLL mode this busy-polls IntrStatus.
 * @param timeout_ms -1 waits forever, 0 only checks
 * @return 1 if it fired; 0 on timeout; -EINTR if a signal arrived;
 *         -ENODEV the device was removed;
 *         -ENOTSUP, -EINVAL as for ivsh_dev_irq_fd().
 */
int ivsh_dev_irq_wait(struct ivsh_dev *dev, unsigned int vector,
		      int timeout_ms);

/**
 * Busy-poll IntrStatus (whose read clears it) until bit 0 is set.
 * Needs IVSH_IRQ_INTX_POLL (IntrMask is kept 0 so no line is asserted).
 * @return 1 when a peer interrupt was seen; 0 on timeout; -ENOTSUP in
 *         another mode; -ENODEV the device was removed.
 */
int ivsh_dev_intx_poll(struct ivsh_dev *dev, int timeout_ms);

/**
 * Descriptor that becomes readable when connect/disconnect notices wait
 * (server: backend, the server socket).
 * @return the fd; -ENOTSUP on backends that cannot know their peers;
 *         -ECONNRESET the server is gone (see ivsh_dev_process_events()).
 */
int ivsh_dev_event_fd(struct ivsh_dev *dev);

/**
 * Handle waiting connect/disconnect notices without blocking.
 * @return number of notices handled; -ENOTSUP as for ivsh_dev_event_fd();
 *         -ECONNRESET the server went away (peers keep working, as the
 *         spec allows, but no more notices will come), returned by every
 *         later call too;
 *         -EPROTO the server broke the protocol; the connection is then
 *         closed (later calls return -ECONNRESET), peers keep working.
 */
int ivsh_dev_process_events(struct ivsh_dev *dev);

/**
 * The peer named by the last connect or disconnect notice handled, for
 * naming a peer that floods the server with connections.
 * @return the peer ID; -ENOENT none yet; -ENOTSUP as for
 *         ivsh_dev_event_fd().
 */
int ivsh_dev_last_notice_peer(const struct ivsh_dev *dev);

/**
 * Whether @p peer is connected, as far as this device can know.
 * @return 1 connected; 0 not connected; -ENOTSUP the backend cannot tell
 *         (guest devices cannot: the spec gives them no way).
 */
int ivsh_dev_peer_connected(const struct ivsh_dev *dev, uint16_t peer);

/**
 * List connected peers (not including self), ascending.
 * @return the number of connected peers (may exceed @p max; only @p max
 *         are stored); -ENOTSUP as for ivsh_dev_peer_connected().
 */
int ivsh_dev_peers(const struct ivsh_dev *dev, uint16_t *ids, size_t max);

/**
 * Number of vectors connected for @p peer (how many of its vectors a
 * doorbell can reach). As the spec asks, a device keeps at most as many
 * of a peer's vectors as it is configured for itself (vectors=).
 * @return the count (0 if not connected); -ENOTSUP as above.
 */
int ivsh_dev_peer_vectors(const struct ivsh_dev *dev, uint16_t peer);

/*
 * Removal (hot-unplug). A guest device can be unplugged under a running
 * program. vfio: the kernel asks the program to release the device (the
 * device-request interrupt, armed at open) and waits until it has;
 * uio: the kernel removes the device at once, and the program can only
 * notice. Either way, once ivsh_dev_check_removed() has returned 1:
 *  - register reads return all-ones and writes are dropped;
 *  - ivsh_dev_doorbell() and the irq functions return -ENODEV;
 *  - vfio: the shared memory stays mapped until ivsh_dev_close(), so the
 *    program can mark itself down there; it must close the device
 *    promptly (the unplug waits for it);
 *  - uio: both BAR mappings are replaced in place by private zero pages
 *    at once, so stale pointers read zeros and no write can reach a
 *    device plugged in later at the same bus address. What the program
 *    wrote between the unplug and the check is lost.
 * Host backends (server:, shm:) and mapped devices are never removed.
 */

/**
 * A descriptor that becomes readable (poll/epoll) when the device's
 * removal is requested, beside ivsh_dev_event_fd() and the irq fds; then
 * call ivsh_dev_check_removed().
 * @return the fd (owned by the device); -ENOTSUP the backend has none
 *         (uio: call ivsh_dev_check_removed() periodically instead, every
 *         100 ms or so; host backends: never removed).
 */
int ivsh_dev_removal_fd(struct ivsh_dev *dev);

/**
 * Check, without blocking, whether the device is gone or its removal was
 * requested; the first time it finds so it disarms the device as the
 * comment above says. Costs one system call (a config-space read on
 * uio): call it every few milliseconds at most, not per packet.
 * @return 1 removed (also on every later call); 0 present.
 */
int ivsh_dev_check_removed(struct ivsh_dev *dev);

/** Whether ivsh_dev_check_removed() has seen the removal (no system call). */
bool ivsh_dev_removed(const struct ivsh_dev *dev);

#ifdef __cplusplus
}
#endif

#endif /* IVSH_DEV_H */
