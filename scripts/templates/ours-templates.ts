/**
 * Writes assets/templates/ours.json: OUR OWN 10 evaluation templates for each of the paper's 100
 * target words, written in the paper's style ({env: "The child rolls the ball", lan: "can you roll
 * the ball"}). They are not the paper's templates (which are not public); `--templates ours`.
 *
 * Each word belongs to a class (small object, toy animal, vehicle, body part, food, drink, seat,
 * place...) whose frames fit every member; words also have their own frames, which come first.
 * No template mentions another target word, so swapping v<ENV> for u<ENV> is the only difference
 * between matched and mismatched contexts. Run: npx tsx scripts/templates/ours-templates.ts
 */
import { writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PAPER_TARGETS } from '../../src/data/targets.js';

type Frames = { env: string[]; lan: string[] };

const CLASS_FRAMES: Record<string, Frames> = {
  object: {
    env: [
      'The child picks up the {x}',
      'The mother holds up the {x}',
      'The child points at the {x}',
      'The father puts the {x} on the shelf',
      'The child drops the {x} on the floor',
      'The mother gives the {x} to the child',
      'The child finds the {x} under the pillow',
      'The child shows the {x} to the father',
      'The child reaches for the {x}',
      'The mother hides the {x} behind her back',
    ],
    lan: [
      'can you pick up the {x}',
      'look at the {x}',
      'give me the {x} please',
      'where is the {x}',
      'do you want the {x}',
      'put the {x} down',
      'is that your {x}',
      'thank you for the {x}',
      'I see the {x}',
      'bring the {x} over here',
    ],
  },
  animal: {
    env: [
      'The child hugs the {x}',
      'The child pets the {x}',
      'The mother makes the {x} walk',
      'The child points at the {x}',
      'The father holds up the {x}',
      'The child gives the {x} a kiss',
      'The child puts the {x} in the barn',
      'The mother makes the {x} jump',
      'The child feeds the {x}',
      'The child picks up the {x}',
    ],
    lan: [
      'what does the {x} say',
      'pet the {x} gently',
      'look at the {x}',
      'can you find the {x}',
      'the {x} is sleeping',
      'where is the {x}',
      'give the {x} a hug',
      'is the {x} hungry',
      'say hello to the {x}',
      'the {x} wants to play',
    ],
  },
  vehicle: {
    env: [
      'The child pushes the {x}',
      'The child rolls the {x} across the floor',
      'The mother holds up the {x}',
      'The child drives the {x} up the ramp',
      'The child crashes the {x} into the wall',
      'The father gives the {x} to the child',
      'The child picks up the {x}',
      'The child parks the {x} by the rug',
      'The mother makes the {x} go fast',
      'The child points at the {x}',
    ],
    lan: [
      'drive the {x}',
      'push the {x}',
      'where is the {x} going',
      'the {x} goes fast',
      'can you make the {x} go',
      'look at the {x}',
      'who is riding in the {x}',
      'park the {x} right here',
      'the {x} is coming',
      'stop the {x}',
    ],
  },
  body: {
    env: [
      'The child touches her {x}',
      'The child points to his {x}',
      'The mother points to the child\'s {x}',
      'The child shows her {x} to the mother',
      'The mother looks at the child\'s {x}',
      'The child covers her {x}',
      'The mother touches the child\'s {x}',
      'The child scratches his {x}',
      'The father kisses the child\'s {x}',
      'The mother washes the child\'s {x}',
    ],
    lan: [
      'where is your {x}',
      'touch your {x}',
      'show me your {x}',
      'let me see your {x}',
      'does your {x} hurt',
      'point to your {x}',
      'that is your {x}',
      'what happened to your {x}',
      'I will kiss your {x}',
      'is your {x} dirty',
    ],
  },
  food: {
    env: [
      'The child eats the {x}',
      'The mother gives the {x} to the child',
      'The child takes a bite of the {x}',
      'The child picks up the {x}',
      'The mother cuts the {x}',
      'The child drops the {x} on the floor',
      'The mother puts the {x} on a dish',
      'The child holds the {x}',
      'The child smells the {x}',
      'The father shares the {x} with the child',
    ],
    lan: [
      'do you want the {x}',
      'eat your {x}',
      'is the {x} good',
      'the {x} is yummy',
      'can I have some of your {x}',
      'where is your {x}',
      'here is the {x}',
      'do you like the {x}',
      'don\'t drop the {x}',
      'finish your {x}',
    ],
  },
  drink: {
    env: [
      'The child drinks the {x}',
      'The mother pours the {x}',
      'The child spills the {x}',
      'The mother gives the {x} to the child',
      'The child sips the {x}',
      'The father smells the {x}',
      'The child tastes the {x}',
      'The mother shakes the {x}',
      'The child pushes the {x} away',
      'The father puts the {x} on the counter',
    ],
    lan: [
      'do you want some {x}',
      'drink your {x}',
      'don\'t spill the {x}',
      'do you want more {x}',
      'the {x} is all gone',
      'here is your {x}',
      'careful with the {x}',
      'is the {x} good',
      'who wants {x}',
      'I poured the {x}',
    ],
  },
  seat: {
    env: [
      'The child sits on the {x}',
      'The child climbs onto the {x}',
      'The mother sits down on the {x}',
      'The child jumps on the {x}',
      'The child stands up on the {x}',
      'The child hides behind the {x}',
      'The father pushes the {x} against the wall',
      'The child puts the teddy on the {x}',
      'The mother cleans the {x}',
      'The child crawls under the {x}',
    ],
    lan: [
      'sit on the {x}',
      'don\'t jump on the {x}',
      'come sit on the {x} with me',
      'get off the {x}',
      'is the {x} comfy',
      'what is under the {x}',
      'climb up on the {x}',
      'let us sit on the {x}',
      'the {x} is big',
      'who is on the {x}',
    ],
  },
  place: {
    env: [
      'The child walks into the {x}',
      'The mother carries the child into the {x}',
      'The child runs out of the {x}',
      'The child plays in the {x}',
      'The father goes into the {x}',
      'The child looks around the {x}',
      'The mother cleans the {x}',
      'The child hides in the {x}',
      'The child peeks into the {x}',
      'The mother turns on the lamp in the {x}',
    ],
    lan: [
      'let us go to the {x}',
      'what is in the {x}',
      'are you in the {x}',
      'come to the {x}',
      'the {x} is messy',
      'who is in the {x}',
      'we are going to the {x}',
      'look in the {x}',
      'stay in the {x}',
      'is it dark in the {x}',
    ],
  },
  opening: {
    env: [
      'The child opens the {x}',
      'The child closes the {x}',
      'The mother opens the {x}',
      'The father shuts the {x}',
      'The child pulls on the {x}',
      'The child pushes the {x}',
      'The child points at the {x}',
      'The mother looks at the {x}',
      'The child touches the {x}',
      'The child stands by the {x}',
    ],
    lan: [
      'open the {x}',
      'close the {x}',
      'can you open the {x}',
      'shut the {x} please',
      'who opened the {x}',
      'look at the {x}',
      'don\'t touch the {x}',
      'the {x} is open',
      'the {x} is closed',
      'let me open the {x}',
    ],
  },
};

/** Class of each word and its own frames (listed first; the class fills the rest up to 10). */
const WORDS: Record<string, { cls: string; env?: string[]; lan?: string[] }> = {
  box: { cls: 'object', env: ['The child opens the {x}', 'The mother closes the {x}', 'The child puts the marbles in the {x}'], lan: ['open the {x}', 'what is in the {x}', 'close the {x}'] },
  book: { cls: 'object', env: ['The child opens the {x}', 'The mother reads the {x}', 'The child turns the pages of the {x}'], lan: ['let us read the {x}', 'open the {x}', 'turn the page of the {x}'] },
  ball: { cls: 'object', env: ['The child rolls the {x}', 'The child throws the {x}', 'The father kicks the {x}', 'The child bounces the {x}'], lan: ['can you roll the {x}', 'throw the {x} to me', 'kick the {x}', 'catch the {x}'] },
  paper: { cls: 'object', env: ['The child tears the {x}', 'The child draws on the {x}', 'The mother folds the {x}'], lan: ['draw on the {x}', 'don\'t tear the {x}', 'fold the {x}'] },
  toy: { cls: 'object', env: ['The child plays with the {x}', 'The child shares the {x} with the mother'], lan: ['play with the {x}', 'share the {x}'] },
  picture: { cls: 'object', env: ['The child draws a {x}', 'The mother hangs up the {x}', 'The child colors the {x}'], lan: ['what a pretty {x}', 'who is in the {x}', 'draw a {x}'] },
  doll: { cls: 'object', env: ['The child rocks the {x}', 'The child dresses the {x}', 'The child puts the {x} to sleep'], lan: ['rock the {x}', 'the {x} is sleeping', 'dress the {x}'] },
  cup: { cls: 'object', env: ['The child drinks from the {x}', 'The mother fills the {x}', 'The child stacks the {x} on top of another one'], lan: ['drink from the {x}', 'is the {x} empty', 'hold the {x} carefully'] },
  towel: { cls: 'object', env: ['The mother dries the child with the {x}', 'The child wipes her arms with the {x}', 'The father folds the {x}'], lan: ['dry off with the {x}', 'here is a {x}', 'wrap up in the {x}'] },
  camera: { cls: 'object', env: ['The mother takes a photo with the {x}', 'The child looks into the {x}', 'The father points the {x} at the child'], lan: ['smile for the {x}', 'look at the {x}', 'wave at the {x}'] },
  bottle: { cls: 'object', env: ['The child drinks from the {x}', 'The mother fills the {x}', 'The child shakes the {x}'], lan: ['drink from your {x}', 'is the {x} empty', 'here is your {x}'] },
  puzzle: { cls: 'object', env: ['The child puts the {x} together', 'The child takes a piece out of the {x}', 'The mother dumps out the {x}'], lan: ['let us do the {x}', 'where does this piece of the {x} go', 'you finished the {x}'] },
  tape: { cls: 'object', env: ['The child pulls the {x}', 'The mother tears off a piece of {x}', 'The child sticks the {x} on the wall'], lan: ['pull the {x}', 'put the {x} here', 'the {x} is sticky'] },
  bucket: { cls: 'object', env: ['The child fills the {x} with sand', 'The child empties the {x}', 'The child carries the {x}'], lan: ['fill the {x}', 'dump out the {x}', 'carry the {x}'] },
  block: { cls: 'object', env: ['The child puts the {x} on the tower', 'The child knocks over the {x}', 'The mother puts the {x} on top'], lan: ['put the {x} on top', 'stack the {x}', 'that {x} is red'] },
  stick: { cls: 'object', env: ['The child waves the {x}', 'The child breaks the {x}', 'The father throws the {x}'], lan: ['don\'t wave the {x}', 'throw the {x}', 'that is a long {x}'] },
  hat: { cls: 'object', env: ['The child puts on the {x}', 'The mother takes off the child\'s {x}', 'The child wears the {x}'], lan: ['put on your {x}', 'take off your {x}', 'what a funny {x}'] },
  spoon: { cls: 'object', env: ['The child eats with the {x}', 'The mother stirs with the {x}', 'The child bangs the {x}'], lan: ['use your {x}', 'hold the {x} like this', 'stir with the {x}'] },
  blanket: { cls: 'object', env: ['The mother covers the child with the {x}', 'The child wraps the teddy in the {x}', 'The child drags the {x}'], lan: ['cover up with the {x}', 'here is your {x}', 'is the {x} warm'] },
  tray: { cls: 'object', env: ['The mother carries the {x}', 'The child bangs on the {x}', 'The father wipes the {x}'], lan: ['put it on the {x}', 'hold the {x} flat', 'the {x} is full'] },
  necklace: { cls: 'object', env: ['The child puts on the {x}', 'The mother wears the {x}', 'The child pulls the {x}'], lan: ['put on the {x}', 'what a pretty {x}', 'don\'t pull my {x}'] },
  plate: { cls: 'object', env: ['The mother puts peas on the {x}', 'The child pushes the {x} away', 'The father washes the {x}'], lan: ['eat everything on your {x}', 'is your {x} empty', 'don\'t drop the {x}'] },
  telephone: { cls: 'object', env: ['The child talks on the {x}', 'The mother answers the {x}', 'The child dials the {x}'], lan: ['who is on the {x}', 'answer the {x}', 'talk on the {x}'] },
  brush: { cls: 'object', env: ['The child brushes the teddy with the {x}', 'The mother picks up the {x}', 'The child holds the {x}'], lan: ['use the {x}', 'here is the {x}', 'give me the {x}'] },
  purse: { cls: 'object', env: ['The child opens the {x}', 'The mother carries her {x}', 'The child looks inside the {x}'], lan: ['what is in the {x}', 'close the {x}', 'that is mommy\'s {x}'] },
  hammer: { cls: 'object', env: ['The child bangs with the {x}', 'The father hits the peg with the {x}', 'The child swings the {x}'], lan: ['bang with the {x}', 'be careful with the {x}', 'hit the peg with the {x}'] },
  button: { cls: 'object', env: ['The child presses the {x}', 'The mother fastens the {x} on the coat', 'The child pushes the {x}'], lan: ['push the {x}', 'press the {x}', 'what does this {x} do'] },
  pencil: { cls: 'object', env: ['The child draws with the {x}', 'The mother sharpens the {x}', 'The child scribbles with the {x}'], lan: ['draw with the {x}', 'hold the {x} like this', 'write with the {x}'] },
  shoe: { cls: 'object', env: ['The child puts on her {x}', 'The mother ties the child\'s {x}', 'The child takes off his {x}'], lan: ['put on your {x}', 'tie your {x}', 'where is your other {x}'] },
  bowl: { cls: 'object', env: ['The child eats from the {x}', 'The mother stirs the soup in the {x}', 'The child turns the {x} upside down'], lan: ['eat from your {x}', 'is your {x} empty', 'hold the {x} still'] },
  basket: { cls: 'object', env: ['The child puts the socks in the {x}', 'The mother carries the {x}', 'The child empties the {x}'], lan: ['put it in the {x}', 'what is in the {x}', 'carry the {x}'] },
  comb: { cls: 'object', env: ['The mother combs the teddy with the {x}', 'The child holds the {x}', 'The child runs the {x} through the teddy\'s fur'], lan: ['here is the {x}', 'use the {x}', 'give me the {x}'] },
  shirt: { cls: 'object', env: ['The child puts on her {x}', 'The mother straightens the child\'s {x}', 'The child takes off his {x}'], lan: ['put on your {x}', 'your {x} is dirty', 'take off your {x}'] },
  glass: { cls: 'object', env: ['The child drinks from the {x}', 'The mother fills the {x}', 'The father puts the {x} down'], lan: ['drink from the {x}', 'careful with the {x}', 'is the {x} empty'] },
  clock: { cls: 'object', env: ['The child looks at the {x}', 'The mother winds the {x}', 'The child listens to the {x} ticking'], lan: ['the {x} says tick tock', 'what time is on the {x}', 'look at the {x}'] },
  napkin: { cls: 'object', env: ['The child wipes her lips with the {x}', 'The mother folds the {x}', 'The child spreads the {x} on her lap'], lan: ['use your {x}', 'wipe with the {x}', 'here is a {x}'] },
  money: { cls: 'object', env: ['The child counts the {x}', 'The mother puts the {x} in her wallet', 'The child holds the {x}'], lan: ['count the {x}', 'whose {x} is this', 'put the {x} away'] },
  game: {
    cls: 'object',
    env: ['The child plays the {x}', 'The mother sets up the {x}', 'The child and the mother play a {x}', 'The father explains the {x}', 'The child wins the {x}'],
    lan: ['let us play a {x}', 'do you want to play a {x}', 'whose turn is it in the {x}', 'you won the {x}', 'that was a fun {x}'],
  },
  star: {
    cls: 'object',
    env: ['The child points at the {x}', 'The mother draws a {x}', 'The child sticks the {x} on the wall', 'The child holds up the {x}', 'The father hangs the {x} over the crib'],
    lan: ['twinkle twinkle little {x}', 'look at the {x}', 'can you draw a {x}', 'the {x} is shiny', 'where is the {x}'],
  },
  duck: { cls: 'animal', env: ['The child floats the {x} in the bath'], lan: ['the {x} says quack', 'the {x} can swim'] },
  bird: { cls: 'animal', env: ['The mother makes the {x} fly'], lan: ['the {x} can fly', 'the {x} says tweet'] },
  elephant: { cls: 'animal', env: ['The child lifts the {x} by its trunk'], lan: ['the {x} has a long trunk', 'the {x} is big'] },
  dog: { cls: 'animal', env: ['The child throws a bone to the {x}'], lan: ['the {x} says woof', 'good {x}'] },
  horse: { cls: 'animal', env: ['The child rides the {x}'], lan: ['the {x} says neigh', 'ride the {x}'] },
  cow: { cls: 'animal', env: ['The child puts the {x} by the fence'], lan: ['the {x} says moo', 'the {x} eats grass'] },
  pig: { cls: 'animal', env: ['The child puts the {x} in the mud'], lan: ['the {x} says oink', 'the {x} is pink'] },
  cat: { cls: 'animal', env: ['The child strokes the {x}'], lan: ['the {x} says meow', 'nice {x}'] },
  monkey: { cls: 'animal', env: ['The child makes the {x} climb'], lan: ['the {x} likes to climb', 'the {x} is silly'] },
  bear: { cls: 'animal', env: ['The child tucks the {x} into the crib'], lan: ['the {x} is sleepy', 'give the {x} a big hug'] },
  sheep: { cls: 'animal', env: ['The child puts the {x} on the grass'], lan: ['the {x} says baa', 'the {x} is fluffy'] },
  giraffe: { cls: 'animal', env: ['The child stands the {x} up'], lan: ['the {x} has a long neck', 'the {x} is tall'] },
  turtle: { cls: 'animal', env: ['The child makes the {x} crawl slowly'], lan: ['the {x} is slow', 'the {x} hides in its shell'] },
  bunny: { cls: 'animal', env: ['The child makes the {x} hop'], lan: ['the {x} can hop', 'the {x} is soft'] },
  animal: { cls: 'animal', env: ['The child lines up the {x} with the others'], lan: ['what {x} is that', 'which {x} do you like'] },
  car: { cls: 'vehicle', env: ['The child opens the trunk of the {x}'], lan: ['the {x} goes vroom', 'get in the {x}'] },
  truck: { cls: 'vehicle', env: ['The child loads sand into the {x}'], lan: ['the {x} goes beep beep', 'fill up the {x}'] },
  train: { cls: 'vehicle', env: ['The child puts the {x} on the track'], lan: ['the {x} goes choo choo', 'the {x} is on the track'] },
  bus: { cls: 'vehicle', env: ['The child puts the people in the {x}'], lan: ['the wheels on the {x} go round and round', 'get on the {x}'] },
  airplane: { cls: 'vehicle', env: ['The child flies the {x} through the air', 'The father zooms the {x} over the child'], lan: ['the {x} goes up in the sky', 'the {x} can fly'] },
  hand: { cls: 'body', env: ['The child waves her {x}', 'The mother holds the child\'s {x}'], lan: ['give me your {x}', 'wave your {x}'] },
  head: { cls: 'body', env: ['The child nods her {x}', 'The child shakes his {x}'], lan: ['shake your {x}', 'nod your {x}'] },
  mouth: { cls: 'body', env: ['The child opens her {x}', 'The mother wipes the child\'s {x}'], lan: ['open your {x}', 'close your {x}'] },
  face: { cls: 'body', env: ['The mother wipes the child\'s {x}', 'The child makes a funny {x}'], lan: ['wash your {x}', 'what a funny {x}'] },
  finger: { cls: 'body', env: ['The child points with her {x}', 'The child holds up one {x}'], lan: ['hold up one {x}', 'count on your {x}'] },
  arm: { cls: 'body', env: ['The child raises her {x}', 'The child stretches out his {x}'], lan: ['put your {x} up', 'put your {x} in the sleeve'] },
  hair: { cls: 'body', env: ['The mother brushes the child\'s {x}', 'The child pulls her {x}'], lan: ['let me fix your {x}', 'your {x} is long'] },
  foot: { cls: 'body', env: ['The child stamps her {x}', 'The child lifts his {x}'], lan: ['lift your {x}', 'stamp your {x}'] },
  ear: { cls: 'body', env: ['The child pulls on her {x}', 'The mother whispers in the child\'s {x}'], lan: ['listen with your {x}', 'I whisper in your {x}'] },
  shoulder: { cls: 'body', env: ['The child shrugs one {x}', 'The mother pats the child\'s {x}'], lan: ['sit on my {x}', 'is your {x} sore'] },
  leg: { cls: 'body', env: ['The child kicks her {x}', 'The child lifts one {x}'], lan: ['kick your {x}', 'stretch your {x}'] },
  eye: { cls: 'body', env: ['The child closes one {x}', 'The child rubs her {x}'], lan: ['close your {x}', 'open your {x}'] },
  knee: { cls: 'body', env: ['The child bumps her {x}', 'The child bends his {x}'], lan: ['did you hurt your {x}', 'bend your {x}'] },
  cookie: { cls: 'food', env: ['The child dunks the {x}', 'The mother breaks the {x} in half'], lan: ['one more {x}', 'do you want a {x}'] },
  egg: { cls: 'food', env: ['The mother cracks the {x}', 'The child peels the {x}'], lan: ['crack the {x}', 'the {x} is hot'] },
  apple: { cls: 'food', env: ['The mother washes the {x}', 'The child rolls the {x} across the counter'], lan: ['the {x} is crunchy', 'wash the {x} first'] },
  bread: { cls: 'food', env: ['The mother butters the {x}', 'The child tears the {x}'], lan: ['do you want some {x}', 'the {x} is soft'] },
  cracker: { cls: 'food', env: ['The child crumbles the {x}', 'The mother hands the child a {x}'], lan: ['do you want a {x}', 'the {x} is crunchy'] },
  cheese: { cls: 'food', env: ['The mother slices the {x}', 'The child nibbles the {x}'], lan: ['do you want some {x}', 'the {x} is yummy'] },
  banana: { cls: 'food', env: ['The mother peels the {x}', 'The child squishes the {x}'], lan: ['peel the {x}', 'the {x} is yellow'] },
  food: { cls: 'food', env: ['The mother warms up the {x}', 'The child plays with the {x}'], lan: ['are you hungry for some {x}', 'don\'t play with your {x}'] },
  milk: { cls: 'drink', env: ['The child gulps down the {x}'], lan: ['the {x} is cold', 'is the {x} cold'] },
  juice: { cls: 'drink', env: ['The mother opens the {x}'], lan: ['is the {x} sweet', 'orange {x}'] },
  coffee: {
    cls: 'drink',
    env: ['The mother drinks the {x}', 'The father sips his {x}', 'The mother pours the {x}', 'The father stirs the {x}', 'The mother blows on the {x}', 'The father puts the {x} on the counter', 'The mother warms up the {x}', 'The father spills the {x}', 'The mother tastes the {x}', 'The father makes the {x}'],
    lan: ['the {x} is hot', 'don\'t touch my {x}', 'is the {x} ready', 'that is daddy\'s {x}', 'I need my {x}', 'the {x} smells good', 'careful the {x} is hot', 'mommy is drinking {x}', 'no {x} for you', 'where is my {x}'],
  },
  table: {
    cls: 'seat',
    env: ['The mother sets the {x}', 'The child crawls under the {x}', 'The child bangs on the {x}', 'The child climbs on the {x}', 'The mother wipes the {x}', 'The child puts the teddy on the {x}', 'The father sits down at the {x}', 'The child stands next to the {x}', 'The child hides under the {x}', 'The mother moves the {x}'],
    lan: ['put it on the {x}', 'don\'t climb on the {x}', 'come to the {x}', 'what is on the {x}', 'sit at the {x}', 'wipe the {x}', 'under the {x}', 'the {x} is sticky', 'help me set the {x}', 'get down from the {x}'],
  },
  chair: { cls: 'seat', env: [], lan: ['pull up a {x}', 'your {x} is here'] },
  couch: { cls: 'seat', env: [], lan: ['let us rest on the {x}'] },
  sofa: { cls: 'seat', env: [], lan: ['let us cuddle on the {x}'] },
  bench: { cls: 'seat', env: ['The child sits on the {x} outside'], lan: ['sit on the {x} and rest'] },
  bed: { cls: 'seat', env: ['The mother tucks the child into {x}'], lan: ['time for {x}', 'get into {x}'] },
  room: { cls: 'place', env: [], lan: ['clean up your {x}', 'go to your {x}'] },
  kitchen: { cls: 'place', env: ['The mother cooks in the {x}'], lan: ['mommy is in the {x}', 'let us cook in the {x}'] },
  garage: { cls: 'place', env: ['The child parks the red wagon in the {x}', 'The father opens the {x}'], lan: ['the wagon is in the {x}', 'open the {x}'] },
  farm: {
    cls: 'place',
    env: ['The child opens the gate of the {x}', 'The child sets up the {x}', 'The mother builds a {x} with the child', 'The child points at the {x}', 'The child puts the fence around the {x}', 'The child drives the tractor around the {x}', 'The father shows the {x} to the child', 'The child looks at the {x}', 'The child puts the farmer on the {x}', 'The mother closes the gate of the {x}'],
    lan: ['old macdonald had a {x}', 'who lives on the {x}', 'let us build a {x}', 'what is on the {x}', 'we went to the {x}', 'the farmer lives on the {x}', 'do you want to play with the {x}', 'the tractor is on the {x}', 'where is the {x}', 'look at the {x}'],
  },
  door: { cls: 'opening', env: ['The child knocks on the {x}', 'The child runs to the {x}'], lan: ['knock on the {x}', 'who is at the {x}'] },
  window: { cls: 'opening', env: ['The child looks out the {x}', 'The child taps on the {x}'], lan: ['look out the {x}', 'what do you see out the {x}'] },
  drawer: { cls: 'opening', env: ['The child takes the socks out of the {x}', 'The child looks inside the {x}'], lan: ['what is in the {x}', 'put it back in the {x}'] },
  refrigerator: {
    cls: 'opening',
    env: ['The mother takes the butter out of the {x}', 'The child puts the magnet on the {x}', 'The child opens the {x}', 'The mother closes the {x}', 'The father looks inside the {x}', 'The child points at the {x}', 'The mother puts the leftovers in the {x}', 'The child leans against the {x}', 'The father takes a drink out of the {x}', 'The child pulls open the {x}'],
    lan: ['what is in the {x}', 'close the {x}', 'put it back in the {x}', 'the {x} is cold inside', 'don\'t leave the {x} open', 'let us look in the {x}', 'the butter is in the {x}', 'who opened the {x}', 'is there any more in the {x}', 'get away from the {x}'],
  },
  stove: {
    cls: 'opening',
    env: ['The mother cooks on the {x}', 'The mother turns on the {x}', 'The father turns off the {x}', 'The child points at the {x}', 'The mother stirs the pot on the {x}', 'The father puts the kettle on the {x}', 'The child stands away from the {x}', 'The mother cleans the {x}', 'The father fries pancakes on the {x}', 'The child looks at the {x}'],
    lan: ['don\'t touch the {x}', 'the {x} is hot', 'stay away from the {x}', 'the pot is on the {x}', 'the {x} is off now', 'mommy is cooking on the {x}', 'is the {x} on', 'the kettle is on the {x}', 'never touch the {x}', 'the soup is on the {x}'],
  },
  light: {
    cls: 'opening',
    env: ['The child turns on the {x}', 'The child turns off the {x}', 'The mother switches on the {x}', 'The child points at the {x}', 'The father fixes the {x}', 'The child looks up at the {x}', 'The child flicks the {x} on and off', 'The mother dims the {x}', 'The child reaches for the {x} switch', 'The father changes the {x}'],
    lan: ['turn on the {x}', 'turn off the {x}', 'the {x} is bright', 'where is the {x}', 'look at the {x}', 'is the {x} on', 'who turned off the {x}', 'the {x} is too bright', 'leave the {x} on', 'can you reach the {x}'],
  },
  ladder: {
    cls: 'opening',
    env: ['The child climbs the {x}', 'The father holds the {x}', 'The child climbs down the {x}', 'The mother moves the {x}', 'The child points at the {x}', 'The father stands on the {x}', 'The child holds on to the {x}', 'The father folds the {x}', 'The child steps onto the {x}', 'The mother leans the {x} against the wall'],
    lan: ['climb the {x}', 'be careful on the {x}', 'hold on to the {x}', 'come down the {x}', 'the {x} is tall', 'don\'t climb the {x}', 'one step up the {x}', 'look at the {x}', 'get off the {x}', 'daddy is on the {x}'],
  },
};

function fill(frames: string[], word: string): string[] {
  return frames.map((f) => f.replace('{x}', word));
}

/** The word's own frames first, then its class frames, without repeats, 10 of each. */
export function templatesFor(word: string, n = 10): { env: string; lan: string }[] {
  const spec = WORDS[word];
  if (!spec) throw new Error(`no template spec for "${word}"`);
  const cls = CLASS_FRAMES[spec.cls];
  if (!cls) throw new Error(`unknown class ${spec.cls}`);
  const env = [...new Set(fill([...(spec.env ?? []), ...cls.env], word))].slice(0, n);
  const lan = [...new Set(fill([...(spec.lan ?? []), ...cls.lan], word))].slice(0, n);
  if (env.length < n || lan.length < n) throw new Error(`"${word}": only ${env.length} env / ${lan.length} lan frames`);
  return env.map((e, i) => ({ env: e, lan: lan[i]! }));
}

const isMain = process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1];
if (isMain) {
  const out: Record<string, { env: string; lan: string }[]> = {};
  for (const w of PAPER_TARGETS) out[w] = templatesFor(w);
  const path = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'assets', 'templates', 'ours.json');
  writeFileSync(path, JSON.stringify(out, null, 2) + '\n');
  console.log(`wrote ${path}: ${Object.keys(out).length} words × 10 templates`);
}
