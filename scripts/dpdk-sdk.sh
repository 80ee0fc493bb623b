#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# Placeholder until the DPDK SDK fetch lands: reports "not available".
exit 1
