/* The transformer model: the encoder's per-segment forward and the decoder's per-timestep
 * program (key/value memories carried as states, the training forward filled by the feed) give
 * the same probabilities bit for bit at every step (tails, inactive streams and training
 * included), on every supported ISA with 1, 2 and 3 threads; the model learns; every preset
 * round-trips small inputs, tails included. */
#include "model_drive.h"

/* variant 0: memory 3, plain; 1: no memory and no shifted embedding, bigram table and the
 * order-2 count mixer;
 * 2: memory 7 (longer than a segment), order-4 mixer, gradient clipping; 3: one layer of three
 * heads, memory 1. */
static void small_config(model_config *c, uint32_t variant)
{
    memset(c, 0, sizeof *c);
    REQUIRE(model_find_name("transformer-counts")->preset(c, 1) == NC_OK);
    static const uint8_t memory[4] = { 3, 0, 7, 1 };
    model_config_set(c, MP_STREAMS, 3);
    model_config_set(c, MP_LAYERS, variant == 3 ? 1 : 2);
    model_config_set(c, MP_D_MODEL, 16);
    model_config_set(c, MP_HEADS, variant == 3 ? 3 : 2);
    model_config_set(c, MP_D_KEY, 8);
    model_config_set(c, MP_D_VALUE, 4);
    model_config_set(c, MP_D_INNER, 24);
    model_config_set(c, MP_MEMORY, memory[variant]);
    model_config_set(c, MP_SEGMENT, 5);
    model_config_set(c, MP_BIGRAM, variant == 1 || variant == 2);
    model_config_set(c, MP_MIX_ORDER, variant == 2 ? 4 : variant == 1 ? 2 : 0);
    model_config_setf(c, MP_CLIP, variant == 2 ? 0.01f : 0.0f);
    model_config_set(c, MP_SHIFT, variant != 1);
}

int main(void)
{
    check_identity(small_config, 4);
    model_config c;
    small_config(&c, 0); /* the transformer alone: no count mixer, no bigram table */
    model_config_setf(&c, MP_LR, 3e-3f);
    check_learns(&c);
    check_presets("transformer-counts");
    return test_finish("test_transformer");
}
