// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * Interop settings of one device: the MPA revision, CRC, RFC 6581
 * peer-to-peer mode and its RTR types, the IRD/ORD a connection may
 * announce, and zero-copy transmit. Peers differ (a hardware RNIC wants
 * CRC, a Windows host through a Chelsio card MPA revision 1), and one
 * host may talk to several kinds through different interfaces, so each
 * device has its own, read and written as attributes in its sysfs
 * directory (/sys/class/infiniband/DEV/). The module parameters of the
 * same names are the defaults a new device starts with.
 *
 * The connection manager takes a snapshot when a connection starts
 * (siw_settings_get()): a change applies to the device's connections
 * from then on, never to one that is being set up or running.
 */
#include <linux/module.h>
#include <linux/moduleparam.h>
#include <linux/string.h>
#include <linux/sysfs.h>
#include <rdma/ib_verbs.h>

#include "siw.h"

static bool siw_param_crc_enabled;
module_param_named(mpa_crc_enabled, siw_param_crc_enabled, bool, 0644);
MODULE_PARM_DESC(mpa_crc_enabled,
		 "Default of new devices' mpa_crc: request, generate and check MPA CRC32C (default: no)");

static bool siw_param_crc_strict;
module_param_named(mpa_crc_strict, siw_param_crc_strict, bool, 0644);
MODULE_PARM_DESC(mpa_crc_strict,
		 "With mpa_crc_enabled, new devices refuse peers that do not use CRC (mpa_crc strict; default: no)");

static bool siw_param_peer_to_peer;

/* What the other parameters set; the rest is taken from the bools. */
static struct siw_settings siw_defaults = {
	.mpa_rev = SIW_MPA_REV_2,
	.rtr = SIW_MPA_RTR_ALL,
	.max_ird = SIW_MAX_IRD,
	.max_ord = SIW_MAX_ORD,
	.zcopy_tx = SIW_ZCOPY_OFF,
	.large_fpdu = 1,
};

/* ---- values and their names ------------------------------------------ */

static const char *const siw_crc_names[] = {
	[SIW_CRC_OFF] = "off",
	[SIW_CRC_ON] = "on",
	[SIW_CRC_STRICT] = "strict",
};

static const struct {
	const char *name;
	u8 rtr;
} siw_rtr_names[] = {
	{ "write", SIW_MPA_RTR_WRITE },
	{ "read", SIW_MPA_RTR_READ },
	{ "send", SIW_MPA_RTR_SEND },
};

/* A value as written to sysfs: one line, its newline not part of it. */
static size_t siw_value_len(const char *val)
{
	return strcspn(val, "\n");
}

static int siw_parse_uint(const char *val, unsigned int max,
			  unsigned int *out)
{
	char buf[16];
	size_t len = siw_value_len(val);

	if (len >= sizeof(buf))
		return -EINVAL;
	memcpy(buf, val, len);
	buf[len] = '\0';
	if (kstrtouint(buf, 10, out) || *out > max)
		return -EINVAL;
	return 0;
}

static int siw_parse_mpa_rev(const char *val, unsigned int *rev)
{
	if (siw_parse_uint(val, SIW_MPA_REV_2, rev) || *rev < SIW_MPA_REV_1)
		return -EINVAL;
	return 0;
}

/* "all", or a comma-separated list of write, read and send. */
static int siw_parse_rtr(const char *val, unsigned int *rtr)
{
	size_t len = siw_value_len(val);
	const char *end = val + len;
	unsigned int i;

	if (len == 3 && !strncmp(val, "all", 3)) {
		*rtr = SIW_MPA_RTR_ALL;
		return 0;
	}
	*rtr = 0;
	for (;;) {
		const char *comma = memchr(val, ',', end - val);
		size_t n = (comma ? comma : end) - val;

		for (i = 0; i < ARRAY_SIZE(siw_rtr_names); i++) {
			if (n == strlen(siw_rtr_names[i].name) &&
			    !strncmp(val, siw_rtr_names[i].name, n))
				break;
		}
		if (i == ARRAY_SIZE(siw_rtr_names))
			return -EINVAL;
		*rtr |= siw_rtr_names[i].rtr;
		if (!comma)
			return 0;
		val = comma + 1;
	}
}

static int siw_emit_rtr(char *buf, unsigned int rtr)
{
	int len = 0;
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(siw_rtr_names); i++) {
		if (rtr & siw_rtr_names[i].rtr)
			len += sysfs_emit_at(buf, len, "%s%s", len ? "," : "",
					     siw_rtr_names[i].name);
	}
	return len + sysfs_emit_at(buf, len, "\n");
}

static int siw_parse_zcopy(const char *val, unsigned int *mode)
{
	char buf[8];
	size_t len = siw_value_len(val);
	bool on;

	if (!siw_parse_uint(val, SIW_ZCOPY_ALWAYS, mode))
		return 0;
	if (len >= sizeof(buf))
		return -EINVAL;
	memcpy(buf, val, len);
	buf[len] = '\0';
	/* y/n/on/off: the parameter used to be a bool. */
	if (kstrtobool(buf, &on))
		return -EINVAL;
	*mode = on ? SIW_ZCOPY_ON : SIW_ZCOPY_OFF;
	return 0;
}

static int siw_parse_flag(const char *val, unsigned int *v)
{
	return siw_parse_uint(val, 1, v);
}

static int siw_parse_max_ird(const char *val, unsigned int *v)
{
	return siw_parse_uint(val, SIW_MAX_IRD, v);
}

static int siw_parse_max_ord(const char *val, unsigned int *v)
{
	return siw_parse_uint(val, SIW_MAX_ORD, v);
}

static int siw_parse_crc(const char *val, unsigned int *mode)
{
	size_t len = siw_value_len(val);

	for (*mode = 0; *mode < ARRAY_SIZE(siw_crc_names); (*mode)++) {
		if (len == strlen(siw_crc_names[*mode]) &&
		    !strncmp(val, siw_crc_names[*mode], len))
			return 0;
	}
	return -EINVAL;
}

static int siw_emit_uint(char *buf, unsigned int v)
{
	return sysfs_emit(buf, "%u\n", v);
}

static int siw_emit_crc(char *buf, unsigned int mode)
{
	return sysfs_emit(buf, "%s\n", siw_crc_names[mode]);
}

/*
 * One setting: a field of struct siw_settings, how it is read from text
 * and written as text, and what a valid value looks like, for the log
 * line that refuses another. The same for the device's attribute and
 * for the module parameter of its default (not const: a parameter's arg
 * is a plain pointer).
 */
struct siw_setting {
	size_t offset;
	int (*parse)(const char *val, unsigned int *v);
	int (*emit)(char *buf, unsigned int v);
	const char *expected;
};

#define SIW_SETTING(field, parse_fn, emit_fn, valid) {			\
	.offset = offsetof(struct siw_settings, field),			\
	.parse = parse_fn, .emit = emit_fn, .expected = valid,		\
}

static struct siw_setting siw_set_mpa_rev =
	SIW_SETTING(mpa_rev, siw_parse_mpa_rev, siw_emit_uint, "1 or 2");
static struct siw_setting siw_set_crc =
	SIW_SETTING(crc, siw_parse_crc, siw_emit_crc, "off, on or strict");
static struct siw_setting siw_set_p2p =
	SIW_SETTING(p2p, siw_parse_flag, siw_emit_uint, "0 or 1");
static struct siw_setting siw_set_rtr =
	SIW_SETTING(rtr, siw_parse_rtr, siw_emit_rtr,
		    "all or a comma-separated list of write, read and send");
static struct siw_setting siw_set_max_ird =
	SIW_SETTING(max_ird, siw_parse_max_ird, siw_emit_uint,
		    "a number from 0 to " __stringify(SIW_MAX_IRD));
static struct siw_setting siw_set_max_ord =
	SIW_SETTING(max_ord, siw_parse_max_ord, siw_emit_uint,
		    "a number from 0 to " __stringify(SIW_MAX_ORD));
static struct siw_setting siw_set_zcopy =
	SIW_SETTING(zcopy_tx, siw_parse_zcopy, siw_emit_uint,
		    "0 (off), 1 (on) or 2 (always)");
static struct siw_setting siw_set_large_fpdu =
	SIW_SETTING(large_fpdu, siw_parse_flag, siw_emit_uint, "0 or 1");

static unsigned int *siw_setting_field(struct siw_settings *s,
				       const struct siw_setting *d)
{
	return (unsigned int *)((char *)s + d->offset);
}

/* ---- module parameters: the defaults of new devices ------------------- */

static int siw_param_set(const char *val, const struct kernel_param *kp)
{
	const struct siw_setting *d = kp->arg;
	unsigned int v;

	if (d->parse(val, &v)) {
		pr_err("siw: %s: '%.*s' is not %s\n", kp->name,
		       (int)siw_value_len(val), val, d->expected);
		return -EINVAL;
	}
	WRITE_ONCE(*siw_setting_field(&siw_defaults, d), v);
	return 0;
}

static int siw_param_get(char *buffer, const struct kernel_param *kp)
{
	const struct siw_setting *d = kp->arg;

	return d->emit(buffer, READ_ONCE(*siw_setting_field(&siw_defaults, d)));
}

static const struct kernel_param_ops siw_param_ops = {
	.set = siw_param_set,
	.get = siw_param_get,
};

module_param_cb(mpa_rev, &siw_param_ops, &siw_set_mpa_rev, 0644);
MODULE_PARM_DESC(mpa_rev,
		 "Default of new devices' mpa_rev: the MPA revision to initiate with and the highest to answer with, 1 or 2 (default: 2)");

module_param_named(peer_to_peer, siw_param_peer_to_peer, bool, 0644);
MODULE_PARM_DESC(peer_to_peer,
		 "Default of new devices' peer_to_peer: as initiator, ask for RFC 6581 peer-to-peer mode with a ready-to-receive message; needs mpa_rev 2 (default: no)");

module_param_cb(mpa_rtr, &siw_param_ops, &siw_set_rtr, 0644);
MODULE_PARM_DESC(mpa_rtr,
		 "Default of new devices' mpa_rtr: the RFC 6581 ready-to-receive messages offered as initiator and accepted as responder, all or a list of write, read, send (default: all)");

module_param_cb(max_ird, &siw_param_ops, &siw_set_max_ird, 0644);
MODULE_PARM_DESC(max_ird,
		 "Default of new devices' max_ird: the most inbound Read Requests a connection announces it takes, 0 to 128 (default: 128)");
module_param_cb(max_ord, &siw_param_ops, &siw_set_max_ord, 0644);
MODULE_PARM_DESC(max_ord,
		 "Default of new devices' max_ord: the most outbound Read Requests a connection announces, 0 to 128 (default: 128)");

module_param_cb(zcopy_tx, &siw_param_ops, &siw_set_zcopy, 0644);
MODULE_PARM_DESC(zcopy_tx,
		 "Default of new devices' zcopy_tx: transmit payload without copying it: 0 no, 1 yes unless the kernel copies it anyway on a connection, 2 always (default: 0)");

module_param_cb(large_fpdu, &siw_param_ops, &siw_set_large_fpdu, 0644);
MODULE_PARM_DESC(large_fpdu,
		 "Default of new devices' large_fpdu: offer FPDUs of up to the send path's GSO size, used where the peer offers them too; others get FPDUs of the MSS (default: 1)");

void siw_settings_init(struct siw_device *sdev)
{
	struct siw_settings *s = &sdev->settings;

	spin_lock_init(&sdev->settings_lock);
	s->mpa_rev = READ_ONCE(siw_defaults.mpa_rev);
	s->crc = !READ_ONCE(siw_param_crc_enabled) ? SIW_CRC_OFF :
		 READ_ONCE(siw_param_crc_strict) ? SIW_CRC_STRICT : SIW_CRC_ON;
	s->p2p = READ_ONCE(siw_param_peer_to_peer);
	s->rtr = READ_ONCE(siw_defaults.rtr);
	s->max_ird = READ_ONCE(siw_defaults.max_ird);
	s->max_ord = READ_ONCE(siw_defaults.max_ord);
	s->zcopy_tx = READ_ONCE(siw_defaults.zcopy_tx);
	s->large_fpdu = READ_ONCE(siw_defaults.large_fpdu);
	if (s->p2p && s->mpa_rev < SIW_MPA_REV_2) {
		/* The parameters are set one by one: only now are both known. */
		pr_warn_once("siw: peer_to_peer needs mpa_rev 2; new devices start with it off\n");
		s->p2p = 0;
	}
}

void siw_settings_get(struct siw_device *sdev, struct siw_settings *out)
{
	spin_lock(&sdev->settings_lock);
	*out = sdev->settings;
	spin_unlock(&sdev->settings_lock);
}

/* ---- the device's attributes ------------------------------------------ */

struct siw_setting_attr {
	struct device_attribute attr;
	const struct siw_setting *setting;
};

static const struct siw_setting *siw_attr_setting(struct device_attribute *a)
{
	return container_of(a, struct siw_setting_attr, attr)->setting;
}

static struct siw_device *siw_attr_dev(struct device *device)
{
	return rdma_device_to_drv_device(device, struct siw_device, base_dev);
}

static ssize_t siw_setting_show(struct device *device,
				struct device_attribute *attr, char *buf)
{
	const struct siw_setting *d = siw_attr_setting(attr);
	struct siw_settings s;

	siw_settings_get(siw_attr_dev(device), &s);
	return d->emit(buf, *siw_setting_field(&s, d));
}

/*
 * A new value applies only if the settings stay consistent: peer-to-peer
 * mode exists in MPA revision 2 alone.
 */
static ssize_t siw_setting_store(struct device *device,
				 struct device_attribute *attr,
				 const char *buf, size_t count)
{
	const struct siw_setting *d = siw_attr_setting(attr);
	struct siw_device *sdev = siw_attr_dev(device);
	const char *name = attr->attr.name;
	struct siw_settings s;
	unsigned int v;
	bool consistent;

	if (d->parse(buf, &v)) {
		ibdev_warn_ratelimited(&sdev->base_dev,
				       "%s: '%.*s' is not %s\n", name,
				       (int)siw_value_len(buf), buf,
				       d->expected);
		return -EINVAL;
	}
	spin_lock(&sdev->settings_lock);
	s = sdev->settings;
	*siw_setting_field(&s, d) = v;
	consistent = !s.p2p || s.mpa_rev >= SIW_MPA_REV_2;
	if (consistent)
		sdev->settings = s;
	spin_unlock(&sdev->settings_lock);
	if (!consistent) {
		ibdev_warn_ratelimited(&sdev->base_dev,
				       "%s: peer_to_peer needs mpa_rev 2 (RFC 6581)\n",
				       name);
		return -EINVAL;
	}
	return count;
}

#define SIW_SETTING_ATTR(_name, _setting)				\
	static struct siw_setting_attr siw_attr_##_name = {		\
		.attr = __ATTR(_name, 0644, siw_setting_show,		\
			       siw_setting_store),			\
		.setting = &(_setting),					\
	}

SIW_SETTING_ATTR(mpa_rev, siw_set_mpa_rev);
SIW_SETTING_ATTR(mpa_crc, siw_set_crc);
SIW_SETTING_ATTR(peer_to_peer, siw_set_p2p);
SIW_SETTING_ATTR(mpa_rtr, siw_set_rtr);
SIW_SETTING_ATTR(max_ird, siw_set_max_ird);
SIW_SETTING_ATTR(max_ord, siw_set_max_ord);
SIW_SETTING_ATTR(zcopy_tx, siw_set_zcopy);
SIW_SETTING_ATTR(large_fpdu, siw_set_large_fpdu);

static struct attribute *siw_settings_attrs[] = {
	&siw_attr_mpa_rev.attr.attr,
	&siw_attr_mpa_crc.attr.attr,
	&siw_attr_peer_to_peer.attr.attr,
	&siw_attr_mpa_rtr.attr.attr,
	&siw_attr_max_ird.attr.attr,
	&siw_attr_max_ord.attr.attr,
	&siw_attr_zcopy_tx.attr.attr,
	&siw_attr_large_fpdu.attr.attr,
	NULL
};

const struct attribute_group siw_settings_group = {
	.attrs = siw_settings_attrs,
};
