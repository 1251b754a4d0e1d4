/* model: the predictor interface every model implements, and the registry of models.
 *
 * A model predicts the next symbol of each of its n_streams streams, then learns the symbols
 * that actually came. The encoder and the decoder drive it through the same calls in the same
 * order with the same symbols, so a deterministic model makes identical predictions on both
 * sides. Everything a model needs to rebuild itself is in its model_config, which the .nnz
 * header stores as (key, value) pairs: the decoder takes no model options. */
#ifndef NNZIP_MODEL_MODEL_H
#define NNZIP_MODEL_MODEL_H

#include <stddef.h>
#include <stdint.h>

#include "nc/nc.h"
#include "status.h"

/* Model ids stored in the header; never renumbered. MODEL_STORED is no model: the payload is
 * the original itself, written when modelling would make the data larger. */
enum model_id { MODEL_STORED = 0, MODEL_ORDER2 = 1, MODEL_LSTM = 2, MODEL_TRANSFORMER = 3,
               MODEL_CM = 4, MODEL_FLOAT = 5 /* the float-array mode (coder/float) */ };

/* Hyper-parameter keys stored in the header; never renumbered (docs/format.md lists them).
 * Floats are stored as their IEEE-754 bits. */
enum model_param {
    MP_SYMBOLS = 1,  /* alphabet size, 2..65536 (256 for bytes) */
    MP_STREAMS = 2,  /* parallel streams the input is split into */
    MP_O2_LIMIT = 16, /* order2: a context's counts are halved when its total passes this */
    MP_O1_LIMIT = 17, /* order2: same for its order-1 fallback */
    MP_SEED = 24,     /* neural models: the seed of the weight initialisation */
    MP_LAYERS = 32,   /* lstm, transformer: layers */
    MP_HIDDEN = 33,   /* lstm: cells per layer */
    MP_EMBED = 34,    /* lstm: symbol embedding width */
    MP_SEGMENT = 35,  /* neural models: time steps per training segment */
    MP_LR = 36,       /* learning rate (float bits) */
    MP_BETA2 = 37,    /* Adam beta2 (float bits) */
    MP_ADAM_EPS = 38, /* Adam epsilon (float bits) */
    MP_INIT = 39,     /* neural models: initial weight scale, times 1/sqrt(fan-in) (float bits) */
    MP_GATE_NORM = 40, /* lstm: 1 = RMS-normalise each gate's pre-activation */
    MP_LR_END = 41,   /* learning rate reached after lr_steps updates (float bits) */
    MP_LR_STEPS = 42, /* updates over which lr falls linearly to lr_end (0: constant lr) */
    MP_LR_DECAY = 43, /* 1: after lr_steps, lr_end * sqrt(lr_steps / update) */
    MP_BIGRAM = 44,   /* neural models: 1 = a learned (symbols, symbols) table of the previous symbol adds to the logits */
    MP_MIX_ORDER = 45, /* neural models: mix with context counts of orders up to this (2..6; 0 = none) */
    MP_MIX_RATE = 46, /* neural models: step of the count mixer's weights (float bits) */
    MP_D_MODEL = 47,  /* transformer: width of the residual stream */
    MP_HEADS = 48,    /* transformer: attention heads */
    MP_D_KEY = 49,    /* transformer: query/key width per head */
    MP_D_VALUE = 50,  /* transformer: value width per head */
    MP_D_INNER = 51,  /* transformer: width of the feed-forward block */
    MP_MEMORY = 52,   /* transformer: earlier positions each query attends to (besides itself) */
    MP_CLIP = 53,     /* Adam: per-element gradient clip, 0 = off (float bits) */
    MP_POS_SLOPE = 54, /* transformer: initial position bias of head 0 per position back (float bits) */
    MP_POS_RATE = 55, /* transformer: the position bias is this times its parameter (float bits) */
    MP_SHIFT = 56,    /* transformer: 1 = an embedding of the symbol two back adds to the input */
    MP_CM_HASH = 57,  /* cm: log2 of the 16-byte slots of the context hash table */
    MP_CM_MATCH = 58, /* cm: log2 of the match model's position table entries */
    MP_CM_HISTORY = 59, /* cm: log2 of the bytes of history the match model can reach */
    MP_CM_CONTEXTS = 60, /* cm: bit mask of the context groups used (docs/format.md) */
    MP_CM_MIXERS = 61, /* cm: bit mask of the first-layer mixer weight-set selectors */
    MP_CM_RATE = 62,  /* cm: the mixers' learning rate (integer, 1..64) */
    MP_CM_APM = 63,   /* cm: adaptive probability map stages after the mixer (1..3) */
    MP_CM_NET = 64,   /* cm: the network whose byte distribution is a mixer input (0 none, 2 lstm, 3 transformer) */
    MP_NET_LAG = 65,  /* neural models: 1 = a segment's training applies one segment later (net.c) */
    MP_TRANSFORM = 66, /* container: 1 = the model codes the text transform's output (coder/transform) */
    MP_MODELLED_LO = 67, /* container, with the transform: bytes the model codes, low 32 bits */
    MP_MODELLED_HI = 68, /* ... and high 32 bits */
    MP_FL_KIND = 69,  /* float arrays: 1 raw float32, 2 .npy file */
    MP_FL_ERR_LO = 70, /* float arrays: the error bound E as a double's bits, low 32 (0: lossless) */
    MP_FL_ERR_HI = 71, /* ... and high 32 bits */
    MP_BLOCK = 72,    /* container, members of blocks: the most original bytes of one block */
    MP_COUNT = 128    /* keys are u16 in the file; this build knows keys below MP_COUNT */
};

typedef struct model_config {
    uint8_t id, level;
    uint64_t present[MP_COUNT / 64]; /* bit k % 64 of word k / 64 set: value[k] is given */
    uint32_t value[MP_COUNT];
} model_config;

/* The documented name of a parameter key ("symbols", "o2_limit", ...), or NULL if unknown. */
const char *model_param_name(unsigned key);

void model_config_set(model_config *c, enum model_param k, uint32_t v);
/* Whether c gives key k (k < MP_COUNT). */
int model_config_has(const model_config *c, unsigned k);
/* Forget key k. */
void model_config_unset(model_config *c, enum model_param k);
/* The value of k, or NC_ERR_CORRUPT if the config lacks it (a header without a needed key). */
nc_status model_config_get(const model_config *c, enum model_param k, uint32_t *v);

/* Whether key k holds a float's bits (else an unsigned integer). */
int model_param_is_float(unsigned k);
/* A float parameter stored as its IEEE-754 bits. */
void model_config_setf(model_config *c, enum model_param k, float v);
nc_status model_config_getf(const model_config *c, enum model_param k, float *v);

/* Run-time settings that never change the output (so they are not stored). */
typedef struct model_env {
    int threads;
} model_env;

typedef struct model_ops model_ops;

/* Each model's own struct starts with this. */
typedef struct model {
    const model_ops *ops;
    uint32_t n_symbols, n_streams;
    uint32_t segment;          /* steps per training segment if predict_segment is set */
} model;

struct model_ops {
    const char *name;
    uint8_t id;
    /* Defaults for compression level 1..9. */
    nc_status (*preset)(model_config *c, int level);
    /* Range-check a config read from a file before anything is allocated: NC_ERR_LIMIT or
     * NC_ERR_CORRUPT for values this build does not accept. */
    nc_status (*check)(const model_config *c);
    nc_status (*create)(model **out, const model_config *c, const model_env *env);
    void (*destroy)(model *m); /* NULL is fine */
    /* Weights of the next symbol of streams 0..n_active-1: w is (n_streams, n_symbols), each
     * row non-negative and proportional to the probabilities (it need not sum to 1). */
    nc_status (*predict)(model *m, float *w, uint32_t n_active);
    /* Optional (NULL for models that learn symbol by symbol), for models trained per segment of
     * m->segment steps. At the first step of a segment the encoder, which knows the symbols to
     * come, may call it instead of predict for the whole segment: sym is (steps, n_streams) (the
     * symbols of the coming steps), act (steps) the active stream counts, and w receives
     * (steps, n_streams, n_symbols) weights, the very ones predict would give step by step. The
     * encoder then still calls update after each step. steps <= m->segment. */
    nc_status (*predict_segment)(model *m, float *w, const uint16_t *sym, const uint32_t *act,
                                 uint32_t steps);
    /* Learn the symbols that came: sym is (n_streams); only the first n_active are real. */
    nc_status (*update)(model *m, const uint16_t *sym, uint32_t n_active);
    /* Optional bit-level interface (NULL for symbol models). A model with it has one stream of
     * bytes, each coded as 8 binary decisions, most significant bit first (coder/bitcodec.c):
     * bit_predict gives the probability that the next bit is 1 in units of 2^-16, within
     * [1, 65535]; bit_update learns the bit that came. predict/update are then NULL. */
    uint32_t (*bit_predict)(model *m);
    void (*bit_update)(model *m, int bit);
    /* Optional, bit-level models: called before each byte's first bit_predict, it is their one
     * way to report an error. The encoder passes the bytes still to code, this one first (ahead,
     * n_ahead); the decoder NULL, 0. A model may use them only to compute the very predictions
     * it would make without them, faster (a network's batched forward). */
    nc_status (*bit_byte)(model *m, const uint8_t *ahead, uint64_t n_ahead);
    /* Learned parameter count, and a bound on the bytes the model allocates (its state and
     * workspace): what the decoder's memory limit compares, `nnzip -l` and docs/presets.md. */
    void (*size)(const model_config *c, uint64_t *params, uint64_t *bytes);
};

const model_ops *model_find_id(unsigned id);
const model_ops *model_find_name(const char *name);
/* Names of the models a user can pick, NULL-terminated, the default first. */
const char *const *model_names(void);
/* Every model_ops of this build by index (NULL past the last), including the older models kept
 * only to decode their files. */
const model_ops *model_at(size_t i);

/* Check, then create: the one way tools build a model from a config. */
nc_status model_open(model **out, const model_config *c, const model_env *env);
void model_close(model *m);

#endif
