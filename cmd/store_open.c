/* cmd/store_open.c: see store_open.h. */
#include "cmd/store_open.h"
#include "imagefmt/store.h"
#include "sandbox/rootfs.h"
#include "sandbox/userns.h"
#include "util/cleanup.h"
#include "util/fs.h"
#include "util/util.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

static struct nook_idmapping store_ids;

static int
hook_call (void *data, int (*fn) (void *arg, nook_error_t *err), void *arg, nook_error_t *err)
{
  return sandbox_userns_call (data, fn, arg, err);
}

int
cmd_store_open (const char *root, struct imagefmt_store **out, struct nook_idmapping *ids,
                struct idmap_plan_input *probe, nook_error_t *err)
{
  static const struct imagefmt_store_hooks hooks = { .call = hook_call, .data = &store_ids };
  struct idmap_plan_input in;
  if (sandbox_idmap_probe (&in, err) < 0)
    return -1;
  sandbox_idmap_plan (&in, 0, 0, &store_ids, NULL);
  if (imagefmt_store_open (root, out, err) < 0)
    return -1;
  imagefmt_store_set_hooks (*out, &hooks);
  if (ids)
    *ids = store_ids;
  if (probe)
    *probe = in;
  return 0;
}

struct rm_arg
{
  const char *path;
};

static int
rm_fn (void *arg, nook_error_t *err)
{
  return fs_rm_rf_at (AT_FDCWD, ((struct rm_arg *)arg)->path, err);
}

int
cmd_store_rm_rf (const struct nook_idmapping *ids, const char *path, nook_error_t *err)
{
  cleanup_error nook_error_t first = NULL;
  if (fs_rm_rf_at (AT_FDCWD, path, &first) == 0)
    return 0;
  struct rm_arg a = { .path = path };
  return sandbox_userns_call (ids, rm_fn, &a, err);
}

enum storage_driver
cmd_store_recorded_driver (const char *root, char **note)
{
  cleanup_free char *path = xasprintf ("%s/storage-driver", root);
  cleanup_free char *text = NULL;
  cleanup_error nook_error_t e = NULL;
  if (note)
    *note = NULL;
  if (fs_read_file_at (AT_FDCWD, path, 4096, &text, NULL, &e) < 0)
    return STORAGE_NONE;
  char *nl = strchr (text, '\n');
  if (nl)
    {
      *nl = '\0';
      if (note && nl[1])
        {
          *note = xstrdup (nl + 1);
          char *end = strchr (*note, '\n');
          if (end)
            *end = '\0';
        }
    }
  enum storage_driver d;
  return sandbox_storage_parse (text, &d, &e) == 0 ? d : STORAGE_NONE;
}

int
cmd_store_driver (const char *root, const struct nook_idmapping *ids, enum storage_driver *out,
                  nook_error_t *err)
{
  *out = cmd_store_recorded_driver (root, NULL);
  if (*out != STORAGE_NONE)
    return 0;
  cleanup_free char *why = NULL;
  if (sandbox_storage_probe (ids, root, out, &why, err) < 0)
    return -1;
  cleanup_free char *text = xasprintf ("%s\n%s\n", sandbox_storage_name (*out), why ? why : "");
  cleanup_close int d = open (root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (d < 0)
    return nook_error_set (err, errno, "open '%s'", root);
  return fs_write_atomic_at (d, "storage-driver", text, strlen (text), 0644, err);
}
