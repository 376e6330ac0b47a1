"""Algorithms: every optimizer's update rule, symbols, idea, history and a live example."""

import streamlit as st

import optim
from ui import algorithms
from ui.state import UrlSettings

url = UrlSettings(st.query_params, st.session_state)
labels = {cls.label: cls.label for cls in optim.OPTIMIZERS.values()}
url.check_choice("algo", "optimizer", labels)  # the link names the open tab
for note in url.pop_notices():
    st.warning(note, icon=":material/link:")

st.title("The algorithms")
st.write(
    "Each optimizer below is the one in `torch.optim`, with torch's argument names and "
    "defaults. The course follows one line of ideas, each fixing a weakness of the one before:"
)
st.markdown(f"**{algorithms.COURSE_LINE}**")

# only the open tab is built and sent: one rule, one table, one live example per visit
tabs = st.tabs(list(labels), key="algo", bind="query-params")
for tab, (name, cls) in zip(tabs, optim.OPTIMIZERS.items(), strict=True):
    if not tab.open:
        continue
    with tab:
        section = algorithms.section(name)  # built once per process: the same for everyone
        st.subheader(cls.label)
        st.markdown(cls.summary)
        st.latex(cls.latex)
        st.caption(
            f"Effective learning rate (Playground chart): the per-coordinate factor that "
            f"multiplies ${cls.direction}$."
        )
        st.markdown(section.reference)
        if section.call:
            st.code(section.call, language="python")
        st.markdown(
            f"**Live example:** {algorithms.DEMO_SURFACE} surface, torch's defaults, "
            "the numbers of the first steps; each state column is torch's field name "
            "followed by its symbol in the rule."
        )
        st.dataframe(section.live, hide_index=True, key=f"live_{name}")

st.header("Weight decay: coupled (L2) or decoupled")
left, right = st.columns(2)
with left:
    st.markdown("**Coupled** (Adam's `weight_decay`, an L2 penalty in the gradient)")
    st.latex(algorithms.COUPLED)
with right:
    st.markdown("**Decoupled** (AdamW)")
    st.latex(algorithms.DECOUPLED)
st.write(
    "In the coupled form the decay term passes through Adam's division by "
    r"$\sqrt{\hat v_t}$: where gradients are large the decay is divided away. "
    "The decoupled form shrinks every coordinate by the same factor "
    r"$1 - \gamma\lambda$, whatever its gradients."
)
wd = algorithms.WD_DEMO
demo = algorithms.weight_decay_table()
if demo is None:
    st.info("The demonstration needs both Adam and AdamW.")
else:
    st.caption(
        f"{wd['steps']} steps from {wd['start']} on the {algorithms.DEMO_SURFACE}, "
        f"lr {wd['lr']}, weight decay {wd['decay']}, once with and once without the decay; "
        "the pull is how much closer to zero the decay left each coordinate."
    )
    st.dataframe(demo, hide_index=True, key="wd_demo")
    st.write(
        "Compare the pulls: the same decay that AdamW applies to every coordinate almost "
        "vanishes in Adam, because there it is a small addition to a gradient that is then "
        "normalised away. That is why AdamW, not Adam with weight_decay, is the usual choice."
    )
    st.markdown("Run to the end and checked: [Labs: AdamW vs L2](/Labs?lab=adamw_vs_l2).")
