/* The encoder's model config from the user's options: see config.h. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int codec_model_known(const char *name)
{
    if (strcmp(name, CODEC_STORED_NAME) == 0)
        return 1;
    for (const char *const *n = model_names(); *n; n++)
        if (strcmp(*n, name) == 0)
            return 1;
    return 0;
}

/* One "name=value": integers for integer parameters, decimals for float ones. */
static int apply_one(model_config *cfg, const char *a, const char *model_name, char *why, size_t wl)
{
    const char *eq = strchr(a, '=');
    unsigned k = 0;
    for (; eq && k < MP_COUNT; k++) {
        const char *n = model_param_name(k);
        if (n && strlen(n) == (size_t)(eq - a) && strncmp(a, n, (size_t)(eq - a)) == 0)
            break;
    }
    if (!eq || k == MP_COUNT || !model_config_has(cfg, k)) {
        snprintf(why, wl, "--set %s: not a parameter of model %s (see -l on a file)", a, model_name);
        return -1;
    }
    char *end;
    errno = 0;
    if (model_param_is_float(k)) {
        float f = strtof(eq + 1, &end);
        if (*end || end == eq + 1 || errno) {
            snprintf(why, wl, "--set %s: not a number", a);
            return -1;
        }
        model_config_setf(cfg, (enum model_param)k, f);
    } else {
        unsigned long v = strtoul(eq + 1, &end, 10);
        if (*end || end == eq + 1 || errno || eq[1] == '-' || v > UINT32_MAX) {
            snprintf(why, wl, "--set %s: not an unsigned integer", a);
            return -1;
        }
        model_config_set(cfg, (enum model_param)k, (uint32_t)v);
    }
    return 0;
}

nc_status codec_config_build(model_config *cfg, const char *name, int level,
                             const char *const *set, size_t n_set, char *why, size_t wl)
{
    memset(cfg, 0, sizeof *cfg);
    if (!name)
        name = model_names()[0];
    if (level < 1 || level > 9) {
        snprintf(why, wl, "level %d: levels are 1 ... 9", level);
        return NC_ERR_ARG;
    }
    cfg->level = (uint8_t)level;
    if (strcmp(name, CODEC_STORED_NAME) == 0) {
        cfg->id = 0; /* MODEL_STORED */
        if (n_set) {
            snprintf(why, wl, "--set %s: model stored has no parameters", set[0]);
            return NC_ERR_ARG;
        }
        return NC_OK;
    }
    const model_ops *ops = codec_model_known(name) ? model_find_name(name) : NULL;
    if (!ops) {
        snprintf(why, wl, "unknown model '%s'", name);
        return NC_ERR_ARG;
    }
    cfg->id = ops->id;
    nc_status st = ops->preset(cfg, level);
    if (st != NC_OK) {
        snprintf(why, wl, "model %s has no level %d", name, level);
        return st;
    }
    cfg->level = (uint8_t)level;
    for (size_t i = 0; i < n_set; i++)
        if (apply_one(cfg, set[i], ops->name, why, wl) != 0)
            return NC_ERR_ARG;
    if ((st = ops->check(cfg)) != NC_OK) {
        snprintf(why, wl, "these model parameters are out of range: %s", codec_status_str(st));
        return NC_ERR_ARG;
    }
    return NC_OK;
}
