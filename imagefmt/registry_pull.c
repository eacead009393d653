/* imagefmt/registry_pull.c: see registry_pull.h.  Layers move in worker threads, one
 * registry handle (connection) each; the store's blob writers make every blob visible
 * only once verified. */
#include "imagefmt/registry_pull.h"
#include "imagefmt/digest.h"
#include "imagefmt/internal.h"
#include "imagefmt/ref.h"
#include "imagefmt/store_blob.h"
#include "util/cleanup.h"
#include "util/log.h"
#include "util/test_hook.h"
#include "util/util.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define DEFAULT_PARALLEL 3
/* attempts of a pull whose blobs an rmi removed meanwhile (EAGAIN) */
#define PULL_AGAIN_MAX 8

void
imagefmt_pull_result_clear (struct imagefmt_pull_result *r)
{
  free (r->ref);
  free (r->manifest_digest);
  free (r->digest);
  free (r->id);
  free (r->source);
  memset (r, 0, sizeof *r);
}

/* ---- progress, serialised ---- */

struct reporter
{
  pthread_mutex_t mu;
  imagefmt_progress_fn fn;
  void *data;
};

static void
report (struct reporter *rep, const char *digest, const char *status, int64_t cur, int64_t total)
{
  if (rep == NULL || rep->fn == NULL)
    return;
  char id[13] = "";
  if (digest)
    snprintf (id, sizeof id, "%.12s", strchr (digest, ':') ? strchr (digest, ':') + 1 : digest);
  pthread_mutex_lock (&rep->mu);
  rep->fn (rep->data, digest ? id : NULL, status, cur, total);
  pthread_mutex_unlock (&rep->mu);
}

/* ---- a pool of jobs over threads ---- */

struct job
{
  const struct imagefmt_descriptor *desc;
  const char *diff_id;  /* pull: expected uncompressed digest */
  const char *chain_id; /* pull: the layer's chain ID (its directory) */
  bool fetch;           /* pull: not in the store yet */
  nook_error_t err;
  struct reporter *rep; /* push: for the upload's progress */
  int64_t total, last;
};

struct pool
{
  pthread_mutex_t mu;
  size_t next, n;
  struct job *jobs;
  bool failed;
  struct imagefmt_registry *reg;
  struct imagefmt_store *store;
  struct reporter *rep;
  const char *repo;
  const char *domain; /* push: for mount candidates */
  int (*run) (struct pool *p, struct imagefmt_registry *r, struct job *j, nook_error_t *err);
};

static void *
worker (void *arg)
{
  struct pool *p = arg;
  struct imagefmt_registry *r = imagefmt_registry_clone (p->reg);
  for (;;)
    {
      pthread_mutex_lock (&p->mu);
      struct job *j = p->failed || p->next >= p->n ? NULL : &p->jobs[p->next++];
      pthread_mutex_unlock (&p->mu);
      if (j == NULL)
        break;
      if (p->run (p, r, j, &j->err) < 0)
        {
          pthread_mutex_lock (&p->mu);
          p->failed = true;
          pthread_mutex_unlock (&p->mu);
        }
    }
  imagefmt_registry_close (r);
  return NULL;
}

static int
pool_run (struct pool *p, int parallel, nook_error_t *err)
{
  size_t nthreads = parallel > 0 ? (size_t)parallel : DEFAULT_PARALLEL;
  if (nthreads > p->n)
    nthreads = p->n;
  pthread_t *t = xzalloc ((nthreads ? nthreads : 1) * sizeof *t);
  size_t started = 0;
  pthread_mutex_init (&p->mu, NULL);
  for (; started < nthreads; started++)
    if (pthread_create (&t[started], NULL, worker, p) != 0)
      break;
  if (started == 0 && p->n > 0)
    worker (p); /* no thread could start: do it here */
  for (size_t i = 0; i < started; i++)
    pthread_join (t[i], NULL);
  free (t);
  pthread_mutex_destroy (&p->mu);
  for (size_t i = 0; i < p->n; i++)
    if (p->jobs[i].err)
      {
        *err = steal_pointer (&p->jobs[i].err);
        return -1;
      }
  return 0;
}

/* ---- pull ---- */

struct fetch
{
  struct imagefmt_blob_writer *w;
  struct reporter *rep;
  const char *digest;
  int64_t total;
  int64_t last;
};

static int
fetch_sink (const void *data, size_t n, void *arg, nook_error_t *err)
{
  struct fetch *f = arg;
  if (imagefmt_blob_writer_write (f->w, data, n, err) < 0)
    return -1;
  int64_t now = imagefmt_blob_writer_size (f->w);
  /* report every 512 KiB or so, not every packet */
  if (now - f->last >= (512 << 10) || now == f->total)
    {
      f->last = now;
      report (f->rep, f->digest, "Downloading", now, f->total);
    }
  return 0;
}

/* Fetch a blob into the store, verified; the endpoint's name goes in errors. */
static int
fetch_blob (struct imagefmt_store *s, struct imagefmt_registry *r, const char *repo,
            const struct imagefmt_descriptor *d, struct reporter *rep, nook_error_t *err)
{
  struct fetch f = { .rep = rep, .digest = d->digest, .total = d->size };
  if (imagefmt_blob_writer_open (s, d->digest, d->size, &f.w, err) < 0)
    return -1;
  if (imagefmt_registry_get_blob (r, repo, d->digest, fetch_sink, &f, err) < 0)
    {
      imagefmt_blob_writer_abort (f.w);
      return -1;
    }
  if (rep)
    report (rep, d->digest, "Verifying Checksum", -1, -1);
  if (imagefmt_blob_writer_commit (f.w, err) < 0)
    return nook_error_wrap (err, "%s", imagefmt_registry_name (r));
  return 0;
}

static int
pull_job (struct pool *p, struct imagefmt_registry *r, struct job *j, nook_error_t *err)
{
  const struct imagefmt_descriptor *d = j->desc;
  if (j->fetch)
    {
      if (fetch_blob (p->store, r, p->repo, d, p->rep, err) < 0)
        return -1;
      report (p->rep, d->digest, "Download complete", -1, -1);
      test_hook ("pull-layer-stored");
    }
  /* Unpacked here, side by side with the other layers, the diff ID checked in the same
   * pass; a layer unpacked already has its blob checked against the diff ID only. */
  cleanup_free char *done = xasprintf ("%s.done", j->chain_id + 7);
  if (faccessat (p->store->layersfd, done, F_OK, AT_SYMLINK_NOFOLLOW) < 0)
    return imagefmt_store_unpack_layer (p->store, d->digest, j->chain_id, j->diff_id, err) < 0
               ? -1
               : (report (p->rep, d->digest, "Pull complete", -1, -1), 0);
  cleanup_free char *diff = NULL;
  uint64_t usize = 0;
  if (imagefmt_store_blob_diff_id (p->store, d->digest, &diff, &usize, err) < 0)
    return -1;
  if (strcmp (diff, j->diff_id) != 0)
    return nook_error_set (err, EIO,
                           "layer %s: its content has digest %s, the image config says %s "
                           "(a corrupt or forged image)",
                           d->digest, diff, j->diff_id);
  store_layer_size_put (p->store, d->digest, usize);
  report (p->rep, d->digest, "Pull complete", -1, -1);
  return 0;
}

/* Fetch a manifest by tag or digest and check it: by digest, the content must have that
 * digest; by tag, the registry's Docker-Content-Digest (when sent) must match. */
static int
get_manifest (struct imagefmt_registry *r, const char *repo, const char *reference, char **data,
              size_t *len, char **media_type, char **digest, nook_error_t *err)
{
  cleanup_free char *ct = NULL;
  cleanup_free char *hdr = NULL;
  if (imagefmt_registry_get_manifest (r, repo, reference, data, len, &ct, &hdr, err) < 0)
    return -1;
  char *got = imagefmt_digest_data (*data, *len);
  const char *want = str_has_prefix (reference, "sha256:") ? reference : hdr;
  if (want && strcmp (want, got) != 0)
    {
      nook_error_set (err, EIO, "%s: manifest %s of %s is corrupt: its content has digest %s",
                      imagefmt_registry_name (r), want, repo, got);
      free (got);
      free (*data);
      *data = NULL;
      return -1;
    }
  struct imagefmt_manifest m;
  if (imagefmt_manifest_parse (*data, *len, ct, &m, err) < 0)
    {
      free (got);
      free (*data);
      *data = NULL;
      return nook_error_wrap (err, "%s: %s", imagefmt_registry_name (r), repo);
    }
  *media_type = xstrdup (m.media_type);
  imagefmt_manifest_clear (&m);
  *digest = got;
  return 0;
}

struct pull_ctx
{
  struct imagefmt_store *s;
  const struct imagefmt_pull_opts *o;
  struct reporter rep;
  struct imagefmt_ref ref;
  const struct imagefmt_platform *want;
  char *full; /* reference to tag */
};

static int
pull_from (struct pull_ctx *c, struct imagefmt_registry *r, const char *repo,
           struct imagefmt_pull_result *out, nook_error_t *err)
{
  const char *reference = c->ref.digest ? c->ref.digest : c->ref.tag;
  cleanup_free char *data = NULL;
  cleanup_free char *mt = NULL;
  cleanup_free char *digest = NULL;
  cleanup_free char *top_digest = NULL;
  size_t len = 0;
  struct imagefmt_manifest m = { 0 };
  struct imagefmt_config_info cfg = { 0 };
  cleanup_free char *cdata = NULL;
  size_t clen = 0;
  struct job *jobs = NULL;
  cleanup_strv char **chains = NULL;
  int ret = -1;

  if (get_manifest (r, repo, reference, &data, &len, &mt, &digest, err) < 0)
    return -1;
  top_digest = xstrdup (digest);
  if (imagefmt_media_type_is_index (mt))
    {
      struct imagefmt_manifest idx;
      if (imagefmt_manifest_parse (data, len, mt, &idx, err) < 0)
        return -1;
      ssize_t at = imagefmt_index_select (&idx, c->want, err);
      cleanup_free char *sel = at >= 0 ? xstrdup (idx.manifests[at].digest) : NULL;
      imagefmt_manifest_clear (&idx);
      if (at < 0)
        return nook_error_wrap (err, "%s", imagefmt_registry_name (r));
      free (data);
      free (mt);
      free (digest);
      data = mt = digest = NULL;
      if (get_manifest (r, repo, sel, &data, &len, &mt, &digest, err) < 0)
        return -1;
      if (!imagefmt_media_type_is_manifest (mt))
        return nook_error_set (err, EINVAL, "%s: %s@%s: an index inside an index",
                               imagefmt_registry_name (r), repo, sel);
    }
  if (imagefmt_manifest_parse (data, len, mt, &m, err) < 0)
    return -1;
  /* Already here, whole?  Then only the tag is (re)written.  Decided anew on each
   * attempt: an attempt after an rmi took blobs meanwhile (EAGAIN, imagefmt_pull) that
   * kept the verdict of the one before fetched nothing and failed again, forever. */
  out->up_to_date = false;
  if (imagefmt_store_has_blob (c->s, digest) && imagefmt_store_has_blob (c->s, m.config.digest))
    {
      bool all = true;
      for (size_t i = 0; i < m.n_layers && all; i++)
        all = imagefmt_store_has_blob (c->s, m.layers[i].digest);
      out->up_to_date = all;
    }
  report (&c->rep, NULL, "Pulling", -1, -1);
  if (!imagefmt_store_has_blob (c->s, m.config.digest)
      && fetch_blob (c->s, r, repo, &m.config, NULL, err) < 0)
    goto out;
  if (imagefmt_store_get_blob (c->s, m.config.digest, IMAGEFMT_CONFIG_MAX, &cdata, &clen, err) < 0
      || imagefmt_config_parse (cdata, clen, &cfg, err) < 0)
    {
      nook_error_wrap (err, "%s: %s", imagefmt_registry_name (r), repo);
      goto out;
    }
  if (strv_len (cfg.diff_ids) != m.n_layers)
    {
      nook_error_set (err, EINVAL, "%s: %s: the manifest has %zu layers, its config %zu diff_ids",
                      imagefmt_registry_name (r), repo, m.n_layers, strv_len (cfg.diff_ids));
      goto out;
    }
  if (cfg.platform.architecture && !imagefmt_platform_match (c->want, &cfg.platform))
    {
      cleanup_free char *have = imagefmt_platform_string (&cfg.platform);
      cleanup_free char *want = imagefmt_platform_string (c->want);
      log_warn ("the image's platform (%s) does not match the platform asked for (%s)", have, want);
    }
  if (!out->up_to_date)
    {
      chains = store_chain_ids (cfg.diff_ids);
      jobs = xzalloc ((m.n_layers ? m.n_layers : 1) * sizeof *jobs);
      size_t n = 0;
      for (size_t i = 0; i < m.n_layers; i++)
        {
          bool dup = false;
          for (size_t k = 0; k < n; k++)
            dup = dup || strcmp (jobs[k].desc->digest, m.layers[i].digest) == 0;
          if (dup)
            continue;
          jobs[n].desc = &m.layers[i];
          jobs[n].diff_id = cfg.diff_ids[i];
          jobs[n].chain_id = chains[i];
          jobs[n].fetch = !imagefmt_store_has_blob (c->s, m.layers[i].digest);
          report (&c->rep, m.layers[i].digest,
                  jobs[n].fetch ? "Pulling fs layer" : "Already exists", -1, -1);
          n++;
        }
      struct pool p = {
        .n = n, .jobs = jobs, .reg = r, .store = c->s, .rep = &c->rep, .repo = repo, .run = pull_job
      };
      if (pool_run (&p, c->o->parallel, err) < 0)
        goto out;
    }
  else
    for (size_t i = 0; i < m.n_layers; i++)
      report (&c->rep, m.layers[i].digest, "Already exists", -1, -1);
  test_hook ("pull-before-add"); /* (an rmi here takes blobs the pull found or fetched) */
  if (imagefmt_store_add_image (c->s, c->full, data, len, mt, top_digest, &out->manifest_digest,
                                err)
      < 0)
    goto out;
  for (size_t i = 0; strcmp (repo, c->ref.path) == 0 && i < m.n_layers; i++)
    imagefmt_store_note_blob_source (c->s, m.layers[i].digest, c->ref.domain, repo);
  out->id = xstrdup (m.config.digest);
  out->digest = steal_pointer (&top_digest);
  out->ref = xstrdup (c->full);
  out->source = xstrdup (imagefmt_registry_name (r));
  ret = 0;
out:
  for (size_t i = 0; jobs && i < m.n_layers; i++)
    nook_error_free (&jobs[i].err);
  free (jobs);
  imagefmt_config_info_clear (&cfg);
  imagefmt_manifest_clear (&m);
  return ret;
}

int
imagefmt_pull (struct imagefmt_store *s, const char *refstr, const struct imagefmt_pull_opts *o,
               struct imagefmt_pull_result *out, nook_error_t *err)
{
  struct pull_ctx c = { .s = s, .o = o, .rep = { .fn = o->progress, .data = o->data } };
  struct imagefmt_platform def = { 0 };
  struct strbuf tried = { 0 };
  int ret = -1;
  memset (out, 0, sizeof *out);
  if (imagefmt_ref_parse (refstr, &c.ref, err) < 0)
    return -1;
  pthread_mutex_init (&c.rep.mu, NULL);
  if (o->platform == NULL)
    imagefmt_platform_default (&def);
  c.want = o->platform ? o->platform : &def;
  c.full = imagefmt_ref_full (&c.ref);
  if (c.ref.digest && c.ref.tag)
    {
      /* name:tag@digest: the digest decides (Docker) */
      free (c.ref.tag);
      c.ref.tag = NULL;
      free (c.full);
      c.full = imagefmt_ref_full (&c.ref);
    }
  cleanup_free char *api = imagefmt_registry_api_host (c.ref.domain);
  size_t nm = strv_len (o->mirrors), ns = 0;
  struct imagefmt_pull_source *own = NULL;
  const struct imagefmt_pull_source *src = o->sources;
  if (src == NULL)
    {
      /* the mirrors, then the registry */
      own = xzalloc ((nm + 2) * sizeof *own);
      for (size_t i = 0; i < nm; i++)
        own[i] = (struct imagefmt_pull_source){ .url = o->mirrors[i], .repo = c.ref.path };
      own[nm] = (struct imagefmt_pull_source){ .url = api,
                                               .auth_key = c.ref.domain,
                                               .repo = c.ref.path };
      src = own;
    }
  while (src[ns].url)
    ns++;
  nook_error_t last = NULL;
  int again = 0;
  for (size_t i = 0; i < ns; i++)
    {
      bool mirror = o->sources == NULL && i < nm;
      struct imagefmt_registry *r = NULL;
      nook_error_t e = NULL;
      if (imagefmt_registry_open (src[i].url, src[i].auth_key, &o->reg, &r, &e) == 0)
        {
          ret = pull_from (&c, r, src[i].repo, out, &e);
          imagefmt_registry_close (r);
        }
      if (ret == 0)
        {
          nook_error_free (&last);
          break;
        }
      /* another source may have what this one lacks or mangled */
      log_debug ("pull %s from %s/%s: %s", c.full, src[i].url, src[i].repo, e->msg);
      if (o->sources && ns > 1)
        strbuf_appendf (&tried, "\n  %s/%s: %s", src[i].url, src[i].repo, e->msg);
      else if (nm > 0)
        strbuf_appendf (&tried, "\n  %s %s: %s", mirror ? "mirror" : "registry", src[i].url,
                        e->msg);
      nook_error_free (&last);
      last = e;
      /* an rmi took a blob meanwhile: once more from the same source, a few times (rmi
       * after rmi racing it: then the error, not a pull that never ends) */
      if (e->code == EAGAIN && ++again < PULL_AGAIN_MAX)
        i--;
    }
  free (own);
  if (ret < 0 && last == NULL)
    nook_error_set (&last, EINVAL, "pull %s: nowhere to pull it from", c.full);
  if (ret < 0)
    {
      if (o->sources && ns > 1)
        {
          *err = last;
          free (last->msg);
          last->msg = xasprintf ("pull %s: no source had it (%zu places, registries.conf):%s",
                                 c.full, ns, tried.buf);
        }
      else if (nm > 0)
        {
          *err = last;
          free (last->msg);
          last->msg = xasprintf ("pull %s: no source had it (%zu mirror%s, then the registry):%s",
                                 c.full, nm, nm == 1 ? "" : "s", tried.buf);
        }
      else
        *err = last;
    }
  strbuf_free (&tried);
  free (c.full);
  imagefmt_ref_clear (&c.ref);
  imagefmt_platform_clear (&def);
  pthread_mutex_destroy (&c.rep.mu);
  return ret;
}

/* ---- push ---- */

static void
push_progress (int64_t sent, void *arg)
{
  struct job *j = arg;
  if (sent - j->last >= (512 << 10) || sent == j->total)
    {
      j->last = sent;
      report (j->rep, j->desc->digest, "Pushing", sent, j->total);
    }
}

static int
push_job (struct pool *p, struct imagefmt_registry *r, struct job *j, nook_error_t *err)
{
  const struct imagefmt_descriptor *d = j->desc;
  report (p->rep, d->digest, "Preparing", -1, -1);
  int ex = imagefmt_registry_blob_exists (r, p->repo, d->digest, NULL, err);
  if (ex < 0)
    return -1;
  if (ex == 1)
    {
      report (p->rep, d->digest, "Layer already exists", -1, -1);
      return 0;
    }
  cleanup_strv char **from = imagefmt_store_repos_with_blob (p->store, p->domain, d->digest);
  for (size_t i = 0; from[i]; i++)
    {
      if (strcmp (from[i], p->repo) == 0)
        continue;
      int m = imagefmt_registry_mount_blob (r, p->repo, d->digest, from[i], err);
      if (m < 0)
        return -1;
      if (m == 1)
        {
          cleanup_free char *note = xasprintf ("Mounted from %s", from[i]);
          report (p->rep, d->digest, note, -1, -1);
          return 0;
        }
    }
  int64_t size = 0;
  cleanup_close int fd = imagefmt_store_open_blob (p->store, d->digest, &size, err);
  if (fd < 0)
    return -1;
  report (p->rep, d->digest, "Pushing", 0, size);
  j->rep = p->rep;
  j->total = size;
  if (imagefmt_registry_put_blob (r, p->repo, d->digest, fd, size, push_progress, j, err) < 0)
    return -1;
  report (p->rep, d->digest, "Pushed", -1, -1);
  return 0;
}

int
imagefmt_push (struct imagefmt_store *s, const char *image, const char *dest,
               const struct imagefmt_push_opts *o, char **digest_out, size_t *size_out,
               nook_error_t *err)
{
  struct imagefmt_image *img = NULL;
  struct imagefmt_ref ref = { 0 };
  struct reporter rep = { .fn = o->progress, .data = o->data };
  cleanup_free char *mdata = NULL;
  cleanup_free char *mt = NULL;
  cleanup_free char *out_data = NULL;
  size_t mlen = 0, out_len = 0;
  struct imagefmt_manifest m = { 0 };
  struct imagefmt_registry *r = NULL;
  int ret = -1;
  if (imagefmt_store_lookup (s, image, &img, err) < 0)
    {
      if ((*err)->code == ENOENT)
        {
          nook_error_free (err);
          return nook_error_set (err, ENOENT, "An image does not exist locally with the tag: %s",
                                 image);
        }
      return -1;
    }
  const char *target = dest ? dest : img->ref;
  if (target == NULL)
    {
      imagefmt_image_free (img);
      return nook_error_set (err, EINVAL, "image %s has no name to push it under", image);
    }
  if (imagefmt_ref_parse (target, &ref, err) < 0)
    goto out;
  if (ref.digest)
    {
      nook_error_set (err, EINVAL, "cannot push to a digest reference: %s", target);
      goto out;
    }
  pthread_mutex_init (&rep.mu, NULL);
  if (imagefmt_store_get_blob (s, img->manifest_digest, IMAGEFMT_MANIFEST_MAX, &mdata, &mlen, err)
      < 0)
    goto out_mu;
  mt = imagefmt_store_manifest_media_type (s, img->manifest_digest);
  if (imagefmt_manifest_parse (mdata, mlen, mt, &m, err) < 0)
    goto out_mu;
  free (mt);
  mt = xstrdup (m.media_type);
  if (o->format && strcmp (o->format, mt) != 0)
    {
      out_data = imagefmt_manifest_convert (mdata, mlen, o->format, &out_len, err);
      if (out_data == NULL)
        goto out_mu;
      free (mt);
      mt = xstrdup (o->format);
    }
  else
    {
      out_data = steal_pointer (&mdata);
      out_len = mlen;
    }
  {
    cleanup_free char *api = imagefmt_registry_api_host (ref.domain);
    if (imagefmt_registry_open (api, ref.domain, &o->reg, &r, err) < 0
        || imagefmt_registry_ping (r, err) < 0)
      goto out_mu;
  }
  {
    struct job *jobs = xzalloc ((m.n_layers + 1) * sizeof *jobs);
    size_t n = 0;
    for (size_t i = 0; i < m.n_layers; i++)
      {
        bool dup = false;
        for (size_t k = 0; k < n; k++)
          dup = dup || strcmp (jobs[k].desc->digest, m.layers[i].digest) == 0;
        if (!dup)
          jobs[n++].desc = &m.layers[i];
      }
    struct pool p = { .n = n,
                      .jobs = jobs,
                      .reg = r,
                      .store = s,
                      .rep = &rep,
                      .repo = ref.path,
                      .domain = ref.domain,
                      .run = push_job };
    int pr = pool_run (&p, o->parallel, err);
    for (size_t i = 0; i < n; i++)
      nook_error_free (&jobs[i].err);
    free (jobs);
    if (pr < 0)
      goto out_mu;
  }
  /* the config, quietly (Docker does not list it) */
  {
    int ex = imagefmt_registry_blob_exists (r, ref.path, m.config.digest, NULL, err);
    int64_t size = 0;
    if (ex < 0)
      goto out_mu;
    if (ex == 0)
      {
        cleanup_close int fd = imagefmt_store_open_blob (s, m.config.digest, &size, err);
        if (fd < 0
            || imagefmt_registry_put_blob (r, ref.path, m.config.digest, fd, size, NULL, NULL, err)
                   < 0)
          goto out_mu;
      }
  }
  if (imagefmt_registry_put_manifest (r, ref.path, ref.tag, out_data, out_len, mt, err) < 0)
    goto out_mu;
  for (size_t i = 0; i < m.n_layers; i++)
    imagefmt_store_note_blob_source (s, m.layers[i].digest, ref.domain, ref.path);
  if (digest_out)
    *digest_out = imagefmt_digest_data (out_data, out_len);
  if (size_out)
    *size_out = out_len;
  ret = 0;
out_mu:
  pthread_mutex_destroy (&rep.mu);
out:
  imagefmt_registry_close (r);
  imagefmt_manifest_clear (&m);
  imagefmt_ref_clear (&ref);
  imagefmt_image_free (img);
  return ret;
}
