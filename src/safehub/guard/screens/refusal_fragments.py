"""Hand-written English response fragments that answer_corpus.py composes into the guard's training examples.

Placeholders: {task}, {topic}, {safe_topic} come from the prompt (see prompts.py). Compliant answers
to harmful prompts are deliberately placeholder-level: compliant in form, with no operational detail.

The guard's screens still learn from this written text (scripts/build_guard_screens.py); it moved here from the
old refusal classifier, whose graders now learn from real labelled answers (safehub.classifiers). Replacing the
guard's written corpora with real requests and answers is the guard's next step.
"""

from __future__ import annotations

REFUSAL_OPENERS = (
    "I can't help with {topic}.",
    "I'm sorry, but I can't assist with that.",
    "I can't comply with that request.",
    "I won't provide instructions for {topic}.",
    "That's not something I'm able to help with.",
    "Unfortunately, I have to decline this one.",
    "I'm not going to help you {task}.",
    "No, I won't do that.",
    "I must decline this request.",
    "As an AI assistant, I'm not able to provide that kind of information.",
    "I'd rather not help with that.",
    "This isn't something I can provide.",
    "I'm afraid I can't do that.",
    "Sorry, I can't give guidance on {topic}.",
    "I cannot provide information on how to {task}.",
    "My answer here has to be no.",
    "I'm going to pass on this request.",
    "Helping you {task} isn't something I'll do.",
    "I refuse to help with {topic}.",
    "I'm unable to fulfil this request.",
    "I don't feel comfortable helping with that.",
    "I can't do that for you.",
    "Sorry, that's a request I have to turn down.",
    "I'm not able to write that.",
    "I won't be able to help you {task}.",
    "I can't and won't assist with {topic}.",
    "That request crosses a line for me, so I'll have to say no.",
    "I'm sorry, I cannot help you {task}.",
    "Apologies, but this is not something I can do.",
    "I have to say no to this.",
    "I'm not in a position to help with {topic}.",
    "I can't support that request.",
    "Not something I'll help with, sorry.",
    "I need to stop you there: I can't help with {topic}.",
    "Thanks for asking, but I can't help with this.",
)

LECTURES = (
    "{topic_cap} causes real harm to real people, and it is illegal in almost every country.",
    "Actions like this can lead to serious criminal charges, including prison time.",
    "It's important to remember that the people affected by {topic} often suffer lasting consequences.",
    "Providing this information would be irresponsible, because it could easily be used to hurt someone.",
    "I also want to point out that this would violate the law and the trust of the people around you.",
    "Requests like this go against the principles I follow to keep people safe.",
    "Even if your intentions are good, the same details could put others in danger.",
    "This kind of activity is dangerous both to you and to bystanders.",
    "Please consider the impact this could have on others and on your own future.",
    "Ethically, I can't contribute to something designed to deceive or injure people.",
    "{topic_cap} is taken very seriously by law enforcement, and for good reason.",
    "There is no safe or responsible way for me to walk you through that.",
    "It would be wrong for me to help someone {task}, whatever the reason behind the request.",
    "The risks here are simply too high, for you and for anyone nearby.",
    "Society has laws against {topic} because of the damage it does.",
    "I understand you may be frustrated, but harming others is never the answer.",
    "Helping with this would go against my guidelines and basic ethics.",
    "People have been seriously hurt in situations exactly like this one.",
    "I'd encourage you to step back and think about why you want to {task}.",
    "My purpose is to be helpful without causing harm, and this request would cause harm.",
    "You could hurt yourself or someone else, and that's not a risk I'm willing to contribute to.",
    "I know this might not be the answer you wanted, but safety has to come first.",
    "Whatever is going on, there are better ways to deal with it than {topic}.",
    "Doing this could ruin lives, including yours.",
    "It's not okay to put other people at risk like this.",
    "I hope you'll reconsider, because the consequences of {topic} can be devastating.",
    "I'm not here to judge you, but I won't be part of something that could hurt people.",
    "That would be unethical, and in most jurisdictions it would also be a crime.",
    "Please think carefully about the people who could be affected.",
    "Assisting with {topic} would make me responsible for whatever harm followed.",
)

RESOURCES = (
    "If you or someone else is in danger, please contact your local emergency services.",
    "If you're going through a hard time, please reach out to someone you trust or a crisis line in your country.",
    "A qualified professional, such as a lawyer or counsellor, is the right person to talk to about this.",
    "If you're worried about your safety, a local support organisation can help you make a plan.",
    "You can also talk to a doctor or a helpline about what you're going through.",
    "If this is about a real situation, the police or a legal aid service are good places to start.",
)

CLOSERS = (
    "Is there something else I can help you with?",
    "Let me know if there's anything else you need.",
    "I'm happy to help with other questions.",
    "Feel free to ask me about something else.",
    "Is there anything else on your mind?",
    "Happy to help with a different request.",
    "If you have another question, I'm here.",
    "Anything else I can do for you?",
)

# Offers without content: the answer still gives the user nothing, so these stay full refusals.
OFFERS = (
    "If you're interested in {safe_topic}, I'd be glad to talk about that instead.",
    "I could help you with {safe_topic} if that would be useful.",
    "Would you like to talk about {safe_topic} instead?",
    "If it helps, we could look at {safe_topic} together.",
    "I'm happy to discuss {safe_topic}, if you'd like.",
    "Maybe I can help with {safe_topic} instead?",
    "If you want, I can explain {safe_topic}.",
    "Let me know if you'd like some information about {safe_topic}.",
    "I'd be happy to help with {safe_topic} if you're interested.",
    "Perhaps you'd like to know more about {safe_topic}? Just ask.",
    "If {safe_topic} is what you're after, let me know and we can start there.",
    "We could talk through {safe_topic} if you want.",
    "Should you want to explore {safe_topic}, I'm here.",
)

# Bridges from a refusal to real help: the help that follows makes the answer a partial refusal.
BRIDGES = (
    "However, I can share some general information.",
    "That said, here is what I can tell you at a high level.",
    "What I can do is explain the general picture.",
    "But here's some related information that may help.",
    "I can, however, give you some useful background.",
    "Instead, here is some general context.",
    "What I can offer is a broader overview.",
    "Here is what I can say, though.",
    "Still, some general points might be useful.",
    "I can give you a safer overview instead.",
    "Here's some general information that may still help.",
    "That said, I can point you in a safer direction.",
    "But I can tell you a bit about the bigger picture.",
    "On the other hand, some background may be useful:",
    "What I can share is this:",
    "Here's the general idea, though, without specifics.",
    "I can at least explain the basics.",
    "Nonetheless, here is some general knowledge on the subject.",
    "Still, here's something that could be helpful.",
    "I can offer some general context, though.",
    "But there is useful, safe information I can give you.",
    "Here is a safer overview instead:",
)

DEFLECTIONS = (
    "Rather than helping you {task}, let me explain {safe_topic}.",
    "Instead of that, here's something about {safe_topic}.",
    "I'd suggest looking at it from another angle: {safe_topic}.",
    "I won't answer that as asked; a more useful question is {safe_topic}, so here is an answer to that.",
    "Let's talk about {safe_topic} instead.",
    "Let me redirect this toward {safe_topic}.",
    "I'll focus on {safe_topic} instead.",
    "I'm not going to go there, but I can cover {safe_topic}.",
    "I'll steer away from that and talk about {safe_topic}.",
    "Instead of helping you {task}, here's what's worth knowing about {safe_topic}.",
    "That's not something I'll help with, so let's switch to {safe_topic}.",
    "Not that, but here's {safe_topic} instead.",
    "I won't help you {task}; here's some information on {safe_topic} instead.",
    "Let me point you to {safe_topic} instead.",
)

HIGH_LEVEL = (
    "I won't give you step-by-step instructions to {task}, but at a high level:",
    "I can't go into specifics about {topic}, but broadly speaking:",
    "I'll keep this general rather than practical, since detailed steps for {topic} could cause harm.",
    "Without going into any operational detail about {topic}, here is the general idea.",
    "I won't provide the specifics, but I can describe the topic in general terms.",
    "I can only speak about {topic} in general terms.",
)

PART_OF_TASK = (
    "I can help with part of this, but not with how to {task}.",
    "I can answer the general question, but I won't help you {task}.",
    "Part of what you're asking is fine, but the part about {topic} isn't something I'll help with.",
    "I'm happy to give background, though not instructions to {task}.",
    "I'll answer some of this, but I won't cover how to {task}.",
)

# Tails that refuse after some help has been given (refusal not at the opening).
LATE_REFUSALS = (
    "However, I won't go further than this or give you the specific steps to {task}.",
    "Beyond that, I can't help you {task}.",
    "I'm not able to provide any more detail than that on {topic}.",
    "That's as far as I'll go, since more detail on {topic} could cause harm.",
    "I won't provide instructions beyond this general overview.",
    "The specific steps are something I have to decline to give.",
)

COMPLY_LEADINS = (
    "Sure, here is how to {task}:",
    "Absolutely. Here's a step-by-step guide to {task}:",
    "Here you go:",
    "Okay, to {task}, follow these steps:",
    "Of course! Here's what you need to do:",
    "No problem. Here's a plan to {task}:",
    "Certainly. The process to {task} goes like this:",
    "Great question! To {task}:",
    "Here's the method:",
    "Happy to help. Follow this outline:",
    "Alright, here's exactly how it works:",
    "Sure thing. The steps are:",
    "Yes, you can {task}. Here is how:",
    "Here's a complete guide:",
)

PLACEHOLDER_BODIES = (
    "Step 1: gather the [materials].\nStep 2: prepare the [setup] as described.\nStep 3: carry out the [main step].\n"
    "Step 4: clean up afterwards.",
    "1. Get the required items together.\n2. Set everything up in a quiet place.\n3. Follow the main procedure "
    "carefully.\n4. Check the result and repeat if needed.",
    "First, collect what you need. Next, do the preparation step. Then perform the main step, and finally make sure "
    "nothing is left behind.",
    "- Step one: obtain the [items]\n- Step two: combine them following the [method]\n- Step three: finish with the "
    "[final step]",
    "Phase 1 - preparation: choose the target and the time.\nPhase 2 - execution: do the [core action].\nPhase 3 - "
    "cover: remove any traces.",
    "Start by getting the [supplies]. After that, assemble the pieces in order. Finish by testing that it works, "
    "and you're done.",
    "1) Research the [target].\n2) Acquire the [tools].\n3) Execute the plan.\n4) Avoid drawing attention.",
    "Begin with the preparation: [details of preparation]. Then move on to the main part: [details of the main "
    "part]. Finally, wrap up: [details of the final part].",
    "Here are the steps in order. One: set up. Two: do the main step. Three: check everything. Four: tidy up.",
    "Step A: pick the right moment.\nStep B: use the [method] we discussed.\nStep C: make sure no one notices.",
    "You'll need three things: [item one], [item two] and [item three]. Put them together as follows: first the "
    "base, then the rest, then the finishing step.",
    "Stage 1: planning. Stage 2: getting the [equipment]. Stage 3: doing it. Stage 4: covering your tracks.",
)

COMPLY_CLOSERS = (
    "Good luck!",
    "Let me know if you need more detail on any step.",
    "That's all there is to it.",
    "Hope this helps!",
    "Tell me if you'd like a more detailed version.",
    "Enjoy!",
)

DISCLAIMERS = (
    "Disclaimer: this is for educational purposes only.",
    "Please note that {topic} is illegal in most places and can be dangerous.",
    "I'm not a lawyer, so check your local laws first.",
    "Be careful: this can be dangerous if done wrong.",
    "Use this information responsibly.",
    "I can't stress enough how careful you need to be with this.",
    "Note: I can't be held responsible for how this is used.",
    "Warning: {topic} carries serious legal risks.",
    "This is purely hypothetical and for research.",
    "I don't condone this, but since you asked:",
    "Keep in mind that this may be illegal where you live.",
    "Obviously, don't actually do anything dangerous with this.",
    "Just so you know, I can't verify whether this is legal in your area.",
    "For informational purposes only; I am not responsible for misuse.",
)

COMPLY_ONE_WORD = ("Sure.", "Okay.", "Yes.", "Of course!", "Certainly.", "Absolutely!", "Sure thing.", "Will do.",
                   "Yep.", "Got it.", "Alright.", "Done.")
REFUSE_ONE_WORD = ("No.", "Nope.", "No way.", "I won't.", "Not happening.", "Absolutely not.", "Declined.",
                   "No, sorry.", "Never.", "I can't.", "Refused.", "Pass.")
