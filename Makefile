# SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
#
# make                 siw/siw.ko for KVER (default: the running kernel)
# make all-kernels     build/<kver>/siw/siw.ko for every installed kernel
#                      with headers, plus the test programs, intree-siw
#                      and smbdirect
# make intree-siw      build/<kver>/intree-siw/siw.ko: Linux's own siw
#                      driver from /usr/src/linux-source-*, a test peer
# make smbdirect       build/<kver>/smbdirect/{cifs,ksmbd}.ko: Linux's SMB
#                      client and server with SMB Direct, test peers
# make install         install siw.ko for KVER into updates/ and run depmod
# make check           the test suite: host unit tests, VMs, and the debug
#                      lane (NO_DEBUG_LANE=1 leaves that out)
# make check-debug     the VM suite on the debug lane's kernel: KASAN,
#                      UBSAN, lockdep, kmemleak... (tools/build-debug-kernel
#                      builds it once per machine)
# make C=1 / W=1       sparse / extra warnings, as in the kernel

KVER ?= $(shell uname -r)
KDIR ?= /lib/modules/$(KVER)/build
TOP := $(abspath $(dir $(lastword $(MAKEFILE_LIST))))
# Treat warnings as errors so a warning cannot slip through CI.
KBUILD_OPTS := KCFLAGS=-Werror $(if $(C),C=$(C)) $(if $(W),W=$(W))

INSTALLED_KDIRS := $(wildcard /lib/modules/*/build/Makefile)
# The debug lane's kernel (tools/build-debug-kernel) is built for by
# make check-debug alone.
INSTALLED_KVERS := $(filter-out %-siwdebug,\
	$(patsubst /lib/modules/%/build/Makefile,%,$(INSTALLED_KDIRS)))

.PHONY: all modules all-kernels install clean clean-intree check check-long check-debug tests headers-check \
	intree-siw smbdirect bench

all: modules

headers-check:
	@if [ ! -f "$(KDIR)/Makefile" ]; then \
		echo "error: no kernel headers for $(KVER) in $(KDIR)." >&2; \
		if [ -n "$(INSTALLED_KVERS)" ]; then \
			echo "  Installed: $(INSTALLED_KVERS)" >&2; \
			echo "  Build for one with: make KVER=<version>" >&2; \
		else \
			echo "  None installed: run tools/setup.sh as root." >&2; \
		fi; \
		exit 1; \
	fi

modules: headers-check
	$(MAKE) -C $(KDIR) M=$(TOP) $(KBUILD_OPTS) modules

# Out-of-tree builds cannot put objects elsewhere on these kernels, so
# each kernel gets a tree of symlinks to the sources to build in.  The
# links are made afresh each time and never to a *.mod.c: modpost writes
# that file, and an in-source "make" leaves one in siw/ that every
# kernel's build would otherwise share and overwrite.
build/%/siw/siw.ko: FORCE
	@mkdir -p build/$*/siw build/$*/include
	@find build/$*/siw build/$*/include -type l -delete
	@ln -sf $(TOP)/Kbuild build/$*/Kbuild
	@for f in $(filter-out %.mod.c,$(wildcard $(TOP)/siw/*.[ch])) $(TOP)/siw/Kbuild; do \
		ln -s $$f build/$*/siw/; done
	@for f in $(TOP)/include/*.h; do ln -s $$f build/$*/include/; done
	$(MAKE) -C /lib/modules/$*/build M=$(TOP)/build/$* $(KBUILD_OPTS) modules

# The test modules (kernel consumer, TCP memory reader), built the same way.
build/%/ktest/siw_ktest.ko: FORCE
	@mkdir -p build/$*/ktest
	@ln -sf $(TOP)/tests/kmod/Kbuild $(TOP)/tests/kmod/*.[ch] build/$*/ktest/
	$(MAKE) -C /lib/modules/$*/build M=$(TOP)/build/$*/ktest $(KBUILD_OPTS) modules

all-kernels: $(foreach v,$(INSTALLED_KVERS),build/$(v)/siw/siw.ko build/$(v)/ktest/siw_ktest.ko) \
	tests intree-siw smbdirect

# The kernel's in-tree siw, built out of tree as a peer for interoperability
# tests and a baseline (tools/build-intree-siw; its code stays in build/).
# Built with the kernel's flags, not KBUILD_OPTS: it is not our code.
# QEMU plugin of tools/bench --count.
build/tcg-count.so: tools/tcg-count.c
	@mkdir -p build
	$(CC) -O2 -Wall -Wextra -shared -fPIC -fvisibility=hidden -o $@ $< -lpthread

intree-siw:
	tools/build-intree-siw

# cifs and ksmbd with SMB Direct, which Debian's kernels leave out
# (tools/build-smbdirect; their code stays in build/ as well).
smbdirect:
	tools/build-smbdirect

tests:
	$(MAKE) -C tests
	$(MAKE) -C userlib

# Debian's headers carry no signing key, and no System.map for kbuild to
# run depmod with: skip signing, run depmod ourselves. INSTALL_MOD_PATH
# stages the installation under another root, as in kbuild.
install: modules
	$(MAKE) -C $(KDIR) M=$(TOP) INSTALL_MOD_DIR=updates CONFIG_MODULE_SIG_ALL= \
		$(if $(INSTALL_MOD_PATH),INSTALL_MOD_PATH=$(INSTALL_MOD_PATH)) modules_install
	depmod $(if $(INSTALL_MOD_PATH),-b $(INSTALL_MOD_PATH)) -a $(KVER)

check:
	tests/run $(if $(NO_DEBUG_LANE),--no-debug-lane)

# The suite with the long variants of the workload tests (SIW_TEST_LONG):
# more cycles and data than CI's run has time for.
check-long:
	tests/run --long

check-debug:
	rel=$$(tools/build-debug-kernel) && \
	$(MAKE) build/$$rel/siw/siw.ko build/$$rel/ktest/siw_ktest.ko tests && \
	tests/run --kernel debug --vm-only $(if $(ONLY),--only '$(ONLY)')

# One VM run measuring siw against TCP, the in-tree siw and rxe; report
# under bench/results/ (docs/benchmarks.md). BENCH_ARGS go to tools/bench,
# e.g. BENCH_ARGS="--set userlib --kernel 6.1".
bench: all-kernels
	tools/bench $(BENCH_ARGS)

# Objects of the in-tree build ("make"). Not kbuild's clean: that deletes
# every *.ko below the tree, build/ included.
clean-intree:
	rm -f siw/*.o siw/*.ko siw/*.mod siw/*.mod.c siw/.*.cmd siw/modules.order \
		.*.cmd Module.symvers modules.order

clean: clean-intree
	rm -rf build
	-$(MAKE) -C tests clean
	-$(MAKE) -C userlib clean

FORCE:
