/**
 * The small world of the synthetic corpus: objects (CDI nouns) grouped by what can be done with
 * them, the actions written on %act lines, the sentences caregivers and the child say about an
 * object, and filler talk. Kept small on purpose: a few hundred word types in all.
 */

export type ObjectKind = 'toy' | 'vehicle' | 'animal' | 'food' | 'drink' | 'clothing' | 'household';

export interface WorldObject {
  word: string;
  kind: ObjectKind;
  /** CDI category (for same-category mismatches). */
  category: string;
}

/** 44 objects; a world uses the first `objects` of a seeded shuffle. */
export const OBJECTS: WorldObject[] = [
  ...['ball', 'block', 'doll', 'book', 'puzzle', 'balloon', 'crayon', 'bubbles'].map((word) => ({ word, kind: 'toy' as const, category: 'toys' })),
  ...['car', 'truck', 'train', 'bus', 'airplane', 'boat'].map((word) => ({ word, kind: 'vehicle' as const, category: 'vehicles' })),
  ...['dog', 'cat', 'duck', 'cow', 'pig', 'horse', 'bear', 'bunny', 'sheep', 'monkey'].map((word) => ({ word, kind: 'animal' as const, category: 'animals' })),
  ...['cookie', 'apple', 'banana', 'cheese', 'cracker', 'egg'].map((word) => ({ word, kind: 'food' as const, category: 'food_drink' })),
  ...['juice', 'milk'].map((word) => ({ word, kind: 'drink' as const, category: 'food_drink' })),
  ...['hat', 'shoe', 'sock', 'coat'].map((word) => ({ word, kind: 'clothing' as const, category: 'clothing' })),
  ...['cup', 'spoon', 'bowl', 'brush', 'blanket', 'bottle', 'box', 'telephone'].map((word) => ({ word, kind: 'household' as const, category: 'household' })),
];

/** %act lines: "{a}" is the actor (MOT, FAT, CHI), "{o}" the object, "{d}" a distractor object. */
export const ACTIONS: Record<ObjectKind | 'any', string[]> = {
  any: ['{a} picks up the {o}', '{a} holds the {o}', '{a} points to the {o}', '{a} drops the {o}', '{a} reaches for the {o}', '{a} looks at the {o}', '{a} shows the {o} to {b}', '{a} gives the {o} to {b}', '{a} puts the {o} on the floor', '{a} takes the {o} from {b}'],
  toy: ['{a} throws the {o}', '{a} shakes the {o}', '{a} hides the {o} under the pillow', '{a} plays with the {o}'],
  vehicle: ['{a} pushes the {o}', '{a} rolls the {o} across the floor', '{a} drives the {o} to {b}', '{a} crashes the {o}'],
  animal: ['{a} hugs the {o}', '{a} pets the {o}', '{a} makes the {o} jump', '{a} feeds the {o}'],
  food: ['{a} eats the {o}', '{a} bites the {o}', '{a} breaks the {o}', '{a} smells the {o}'],
  drink: ['{a} drinks the {o}', '{a} pours the {o}', '{a} spills the {o}', '{a} sips the {o}'],
  clothing: ['{a} puts on the {o}', '{a} takes off the {o}', '{a} pulls the {o}', '{a} wears the {o}'],
  household: ['{a} bangs the {o}', '{a} shakes the {o}', '{a} washes the {o}', '{a} hides the {o} under the pillow'],
};

/** Events with a distractor object in the same %act line. */
export const DISTRACTOR_ACTIONS = ['{a} puts the {o} next to the {d}', '{a} picks up the {o} and the {d}', '{a} moves the {d} and takes the {o}', '{a} puts the {o} near the {d}'];
/** A distractor on its own %sit line. */
export const DISTRACTOR_SITUATIONS = ['the {d} is on the floor', 'the {d} is next to the rug', 'the {d} is on the shelf'];

/** What a caregiver says about an object: "{o}" is the word. */
export const CAREGIVER_MENTIONS: Record<ObjectKind | 'any', string[]> = {
  any: ['look at the {o}', 'here is the {o}', 'do you want the {o}', 'that is the {o}', 'where did the {o} go', 'you have the {o}', 'nice {o}', 'the {o}', 'can you find the {o}', 'I see the {o}', 'oh the {o}', 'is that your {o}'],
  toy: ['let us play with the {o}', 'the {o} is fun'],
  vehicle: ['the {o} goes fast', 'beep beep the {o} is coming'],
  animal: ['the {o} says hi', 'what does the {o} say'],
  food: ['do you want to eat the {o}', 'the {o} is yummy'],
  drink: ['do you want some {o}', 'drink your {o}'],
  clothing: ['put on your {o}', 'that is a pretty {o}'],
  household: ['what do we do with the {o}', 'be careful with the {o}'],
};

export const CHILD_MENTIONS = ['{o}', 'my {o}', 'more {o}', '{o} there', 'want {o}'];

/** Mentions with the object absent (the word is used, the thing is not in the scene). */
export const UNLINKED_MENTIONS = ['where is the {o}', 'do you remember the {o}', 'we can play with the {o} later', 'the {o} is at grandma\'s house', 'I like the {o}', 'grandpa has a {o}', 'did you see a {o} yesterday', 'we will get a new {o}'];

export const CAREGIVER_FILLERS = [
  'good job', 'what is that', 'yes', 'uh oh', 'let us see', 'you are so silly', 'okay', 'I know', 'what do you want to do', 'that is right',
  'be careful', 'all done', 'come here', 'oh wow', 'thank you', 'are you tired', 'what happened', 'that is funny', 'one two three', 'do you want to play',
  'what are you doing', 'very good', 'can you help me', 'sit down please', 'I love you', 'are you hungry', 'not now', 'is it time for lunch', 'you did it', 'let me help you',
];

export const CHILD_FILLERS = ['no', 'mine', 'uh oh', 'up', 'hi', 'bye bye', 'mama', 'dada', 'xxx', 'again', 'yeah', 'that', 'down', 'all gone', '&-um there'];

export const BACKGROUND = ['{a} looks at {b}', '{a} smiles at {b}', '{a} claps', '{a} sits down', '{a} laughs', '{a} stands up', '{a} waves at {b}'];
