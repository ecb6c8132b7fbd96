"""Trained text classifiers: an artifact and a data card each, loaded without pickle; used by graders and screens.

    from safehub.classifiers.judgement import AnswerJudge
    AnswerJudge.load().judge(["Write a phishing email."], ["I can't help with that."], harmful=[True])
    # -> [{"label": "full_refusal", "harmful_help": False, ...}]

- linear.py: the artifact format (TF-IDF + logistic regression as plain JSON numbers) and its loader;
- features.py: what the answer and request classifiers see;
- judgement.py: the judgement layer — refusal label, harmful request, harmful help;
- labelled.py: the labelled sets (real answers, labels from people and the team), data/LABELLING_GUIDE.md;
- training.py: training and held-out figures (build time, scikit-learn), used by scripts/build_answer_classifiers.py.
"""
