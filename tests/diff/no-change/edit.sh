# nothing edited: the committed tree is current
true
